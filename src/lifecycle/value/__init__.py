"""What each model version earns against what it costs (DESIGN principle 7).

Modules: `economics` (a campaign's value and its baselines on the same customers), `estimate`
(confidence-based performance estimation before outcomes arrive), `calibration` (is a score a
probability, and isotonic calibration when it is not), `period` (one period's value entry from
its served rows), `store` (the ledger database's value table), `net` (value minus cost, ROI,
verdicts) and `render` (the tables people read).
"""
