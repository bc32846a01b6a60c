"""Release gates and environments: fairness, explanations, staging and production."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from lifecycle.config.base import Frozen


class FairnessParams(Frozen):
    """The fairness gate: sensitive attributes and how far apart their groups may be."""

    enabled: bool = True
    sensitive: tuple[str, ...] = ()
    decision: Literal["campaign", "threshold"] = "campaign"
    min_selection_ratio: float = Field(default=0.8, ge=0, le=1)
    max_recall_difference: float = Field(default=0.1, ge=0, le=1)
    max_precision_difference: float = Field(default=0.1, ge=0, le=1)
    min_group_rows: int = Field(default=30, ge=1)
    max_groups: int = Field(default=20, ge=2)


class ExplainParams(Frozen):
    """Global permutation importance and per-record explanations."""

    top_k: int = Field(default=5, ge=1, le=50)
    n_repeats: int = Field(default=3, ge=1, le=50)
    scoring: Literal["roc_auc", "average_precision", "neg_log_loss"] = "roc_auc"
    max_rows: int = Field(default=5000, ge=100)
    seed: int = 42


class EnvironmentSpec(Frozen):
    """One deployment environment: the registry alias it serves and whether a human approves."""

    alias: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_\-]*$")
    previous_alias: str | None = Field(default=None, pattern=r"^[A-Za-z][A-Za-z0-9_\-]*$")
    requires_approval: bool = False


class ReleaseParams(Frozen):
    """Staging and production: their aliases, and the approval production needs."""

    staging: EnvironmentSpec = EnvironmentSpec(alias="staging")
    # as in params.yaml: local runs promote by themselves; params.production.yaml asks a human
    production: EnvironmentSpec = EnvironmentSpec(alias="champion", previous_alias="previous")
    onnx_tolerance: float = Field(default=1e-5, gt=0, le=0.01)

    @model_validator(mode="after")
    def _distinct_aliases(self) -> ReleaseParams:
        """Two environments on one alias would serve the same model by accident."""
        aliases = [self.staging.alias, self.production.alias]
        aliases += [a for a in (self.staging.previous_alias, self.production.previous_alias) if a]
        if len(set(aliases)) != len(aliases):
            raise ValueError(f"release aliases must all differ, got {aliases}")
        if "challenger" in aliases:
            raise ValueError("release aliases may not reuse 'challenger' (training owns it)")
        return self
