"""The root of params.yaml: every section, and the checks that span sections."""

from __future__ import annotations

import hashlib
import json

from pydantic import model_validator

from lifecycle.config.base import Frozen
from lifecycle.config.behaviour import BehaviourParams, check_behaviour_columns
from lifecycle.config.convergence import ConvergenceParams
from lifecycle.config.costs import (
    BudgetParams,
    EstimateParams,
    PriceSheet,
    ResourceParams,
    ResourceRequest,
    StaffingParams,
)
from lifecycle.config.data import (
    DataParams,
    FeatureParams,
    ProjectParams,
    SimulationParams,
    SplitParams,
    ValidationParams,
)
from lifecycle.config.monitoring import DriftParams, RetrainParams
from lifecycle.config.notifications import NotificationParams
from lifecycle.config.orchestration import OrchestrationParams
from lifecycle.config.privacy import PrivacyParams
from lifecycle.config.release import ExplainParams, FairnessParams, ReleaseParams
from lifecycle.config.serving import ServingParams
from lifecycle.config.training import CampaignParams, MlflowParams, PromotionParams, TrainParams
from lifecycle.config.value import ValueParams


class Params(Frozen):
    """Every section of params.yaml."""

    project: ProjectParams
    data: DataParams
    validation: ValidationParams
    simulation: SimulationParams
    split: SplitParams
    features: FeatureParams = FeatureParams()
    train: TrainParams
    campaign: CampaignParams
    promotion: PromotionParams
    mlflow: MlflowParams
    prices: PriceSheet = PriceSheet()
    resources: ResourceParams = ResourceParams(
        default=ResourceRequest(cpu_cores=1.0, memory_gb=2.0)
    )
    staffing: StaffingParams = StaffingParams(roles={"ml_engineer": 0.0})
    budget: BudgetParams = BudgetParams()
    estimate: EstimateParams = EstimateParams()
    drift: DriftParams = DriftParams()
    retrain: RetrainParams = RetrainParams()
    orchestration: OrchestrationParams = OrchestrationParams()
    serving: ServingParams = ServingParams()
    fairness: FairnessParams = FairnessParams()
    explain: ExplainParams = ExplainParams()
    release: ReleaseParams = ReleaseParams()
    value: ValueParams = ValueParams()
    notifications: NotificationParams = NotificationParams()
    convergence: ConvergenceParams = ConvergenceParams()
    behaviour: BehaviourParams = BehaviourParams()
    privacy: PrivacyParams = PrivacyParams()

    @model_validator(mode="after")
    def _behaviour_columns(self) -> Params:
        """Behavioural tests name known columns; a direction needs an ordered categorical."""
        check_behaviour_columns(self.behaviour, self.data)
        return self

    @model_validator(mode="after")
    def _cross_checks(self) -> Params:
        """Rules and scenarios may only name known columns; labels must match the target."""
        known = {self.data.id_column, self.data.target, *self.data.features}
        for section, cols in (
            ("validation.ranges", self.validation.ranges),
            ("validation.categories", self.validation.categories),
            ("validation.max_null_fraction", self.validation.max_null_fraction),
        ):
            unknown = sorted(set(cols) - known)
            if unknown:
                raise ValueError(f"{section} names columns that are not in data: {unknown}")
        for name, sc in self.simulation.scenarios.items():
            if sc.column not in self.data.features:
                raise ValueError(
                    f"simulation.scenarios.{name}.column {sc.column!r} is not a feature"
                )
        self._declared_columns_exist()
        labels = [str(x) for x in self.validation.target_labels]
        if str(self.data.positive_label) not in labels:
            raise ValueError(
                f"data.positive_label {self.data.positive_label!r} is not one of "
                f"validation.target_labels {labels}"
            )
        return self

    def _declared_columns_exist(self) -> None:
        """Every column another section names is one the data section declares."""
        features = set(self.data.features)
        for i, col in enumerate(self.fairness.sensitive):
            if col not in features:
                raise ValueError(
                    f"fairness.sensitive[{i}]: {col!r} is not a feature in data.numeric or "
                    "data.categorical"
                )
        for i, col in enumerate(self.privacy.personal):
            if col in features or col in (self.data.id_column, self.data.target):
                raise ValueError(
                    f"privacy.personal[{i}]: {col!r} is a feature, the id or the target: list "
                    "only other columns (the id is always pseudonymized; a feature cannot be)"
                )
        for col in self.data.cast:
            if col not in features:
                raise ValueError(f"data.cast: {col!r} is not a feature")
        scenario = self.orchestration.monitor_scenario
        if scenario is not None and scenario not in self.simulation.scenarios:
            raise ValueError(
                f"orchestration.monitor_scenario: {scenario!r} is not one of "
                f"simulation.scenarios {sorted(self.simulation.scenarios)}"
            )

    def section_hash(self, *sections: str) -> str:
        """A short, stable hash of some sections (or all), to fingerprint what a run used."""
        dump = self.model_dump(mode="json")
        chosen = {s: dump[s] for s in sections} if sections else dump
        blob = json.dumps(chosen, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]
