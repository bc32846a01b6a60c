"""Promotion: act on an evaluation's decision (aliases through the release gates, tags, reports).

Kept apart from `lifecycle.evaluate` (core, which only judges) because it moves aliases through
`lifecycle.environments`, which charges the ledger: a domain concern.
"""

from __future__ import annotations

from dataclasses import replace

from lifecycle.config import Params
from lifecycle.environments import release_gated
from lifecycle.evaluate import Decision, write_reports
from lifecycle.paths import Paths
from lifecycle.registry import client, rollback_block


def apply_decision(decision: Decision, params: Params, paths: Paths) -> str | None:
    """Move the aliases if the decision says so, tag MLflow, write the reports; returns champion."""
    c = client(paths)
    name = decision.model_name
    champion = decision.champion_version
    block = rollback_block(c.get_model_version(name, decision.challenger_version).tags)
    reason = decision.reason
    if decision.promote and block is not None:  # a person must override, never the loop
        outcome = "blocked"
        reason = (f"{reason}; not released: v{decision.challenger_version} {block} "
                  "(release it with `lifecycle promote-staging --override-rollback`)")  # fmt: skip
    elif decision.promote:  # to staging; on to production (champion) unless approval is required
        champion = release_gated(params, paths, decision.challenger_version).production
        outcome = "promoted" if champion == decision.challenger_version else "staged"
    else:
        outcome = "kept"
    tags = {
        "promotion.decision": outcome,
        "promotion.reason": reason[:4000],
        "promotion.decided_at": decision.decided_at,
    }
    for key, value in tags.items():
        c.set_model_version_tag(name, decision.challenger_version, key, value)
    run_id = c.get_model_version(name, decision.challenger_version).run_id
    if run_id:
        for key, value in tags.items():
            c.set_tag(run_id, key, value)
    if outcome == "blocked":
        decision = replace(decision, promote=False, reason=reason)
    write_reports(decision, champion, params, paths)
    return str(champion) if champion is not None else None
