"""The challenger on live traffic, read-only: the shadow's comparison and the canary's state."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter

from lifecycle.serve.deps import READ_ONLY, VIEWER, State
from lifecycle.serve.shadow_lines import compare_logged

router = APIRouter(dependencies=[VIEWER], responses=READ_ONLY)


@router.get("/shadow")
async def shadow(state: State) -> dict[str, Any]:
    """Champion vs challenger on live requests: agreement, scores, profit once labelled."""
    p, paths = state.settings.params, state.settings.paths
    found = await asyncio.to_thread(compare_logged, p, paths, state.shadow_lines)
    return {
        "live": state.shadow.stats(),
        "challenger": state.challenger_info(),
        "comparisons": [c.to_dict() for c in found],
    }


@router.get("/canary")
async def canary(state: State) -> dict[str, Any]:
    """The canary share, its window's error rate and p95, and the last step-back's reason."""
    return {**state.canary.status(), "challenger": state.challenger_info()}
