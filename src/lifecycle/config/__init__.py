"""The only reader of params.yaml: frozen, validated pydantic models, clear errors at start.

One module per group of sections (data, training, costs, monitoring, serving, orchestration,
release), the root `Params` in `params`, reading and overlaying files in `loader`.
"""

from lifecycle.config.base import ConfigError, Frozen
from lifecycle.config.costs import (
    Activity,
    BudgetParams,
    EstimateParams,
    Phase,
    PriceSheet,
    ResourceParams,
    ResourceRequest,
    StaffingParams,
)
from lifecycle.config.data import (
    LOG_FIELDS,
    DataParams,
    FeatureParams,
    ProjectParams,
    Scenario,
    SimulationParams,
    SplitParams,
    ValidationParams,
)
from lifecycle.config.loader import (
    ENVIRONMENTS,
    deep_merge,
    default_params_file,
    load_params,
    load_params_for,
    overlay_path,
    parse_params,
)
from lifecycle.config.monitoring import DriftParams, RetrainParams
from lifecycle.config.orchestration import OrchestrationParams
from lifecycle.config.params import Params
from lifecycle.config.release import (
    EnvironmentSpec,
    ExplainParams,
    FairnessParams,
    ReleaseParams,
)
from lifecycle.config.serving import ServingParams
from lifecycle.config.training import (
    CampaignParams,
    Candidate,
    Family,
    Metric,
    MlflowParams,
    PromotionParams,
    TrainParams,
)
from lifecycle.config.value import ValueParams

__all__ = [
    "ENVIRONMENTS",
    "LOG_FIELDS",
    "Activity",
    "BudgetParams",
    "CampaignParams",
    "Candidate",
    "ConfigError",
    "DataParams",
    "DriftParams",
    "EnvironmentSpec",
    "EstimateParams",
    "ExplainParams",
    "FairnessParams",
    "Family",
    "FeatureParams",
    "Frozen",
    "Metric",
    "MlflowParams",
    "OrchestrationParams",
    "Params",
    "Phase",
    "PriceSheet",
    "ProjectParams",
    "PromotionParams",
    "ReleaseParams",
    "ResourceParams",
    "ResourceRequest",
    "RetrainParams",
    "Scenario",
    "ServingParams",
    "SimulationParams",
    "SplitParams",
    "StaffingParams",
    "TrainParams",
    "ValidationParams",
    "ValueParams",
    "deep_merge",
    "default_params_file",
    "load_params",
    "load_params_for",
    "overlay_path",
    "parse_params",
]
