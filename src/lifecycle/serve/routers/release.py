"""The challenger on live traffic, read-only: the shadow's comparison and the canary's state.

The reports take a use case's state: /use-cases/<name>/shadow and /canary answer with them too.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter

from lifecycle.serve.deps import READ_ONLY, VIEWER, State
from lifecycle.serve.shadow_lines import compare_logged
from lifecycle.serve.state import ServiceState

router = APIRouter(dependencies=[VIEWER], responses=READ_ONLY)


@router.get("/shadow")
async def shadow(state: State) -> dict[str, Any]:
    """Champion vs challenger on live requests: agreement, scores, profit once labelled."""
    return await shadow_report(state)


@router.get("/canary")
async def canary(state: State) -> dict[str, Any]:
    """The canary share, its window's error rate and p95, and the last step-back's reason."""
    return canary_report(state)


async def shadow_report(state: ServiceState) -> dict[str, Any]:
    """The use case's shadow: live counts, the challenger loaded, the logged comparisons."""
    p, paths = state.settings.params, state.settings.paths
    found = await asyncio.to_thread(compare_logged, p, paths, state.shadow_lines)
    return {
        "live": state.shadow.stats(),
        "challenger": state.challenger_info(),
        "comparisons": [c.to_dict() for c in found],
    }


def canary_report(state: ServiceState) -> dict[str, Any]:
    """The use case's canary state and the challenger it sends to."""
    return {**state.canary.status(), "challenger": state.challenger_info()}
