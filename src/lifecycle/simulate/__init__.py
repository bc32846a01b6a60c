"""The closed loop, shown: months of traffic through the real service, monitored through Prefect.

Each simulated month: the month's batch (with the scenario applied from
`simulation.drift_from_month` on) goes to POST /predict in chunks, the real outcomes go to
POST /feedback, the month's served rows (customer id, request id, record, features, the score
the service answered, the outcome) become one window file, and the monitor flow checks it.
When the retrain policy says so, the retrain runs one of two ways:

- ``event`` (default): the monitor flow emits the drift event, the retrain deployment's trigger
  starts a flow run, a `process` worker runs it; the loop waits for that run to finish.
- ``inline``: the monitor flow runs the retrain flow as a subflow (no worker, no deployment).

Whatever it needs and finds not running (the local Prefect server, the service on a free
loopback port, the worker) it starts, and stops when done.

Modules: `plan` (the options, checked), `traffic` (a month's batch through the service),
`services` (what runs beside the loop), `loop` (the months), `results` and `table` (what it shows).
"""
