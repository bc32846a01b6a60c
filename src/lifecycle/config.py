"""The only reader of params.yaml: frozen, validated pydantic models, clear errors at start."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

DEFAULT_PARAMS = Path("params.yaml")


class ConfigError(ValueError):
    """A params file that cannot be used, with the key's path, the value and the rule broken."""


class Frozen(BaseModel):
    """Base of every params section: immutable, no unknown keys."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class ProjectParams(Frozen):
    """Names the project in reports and the ledger."""

    name: str = Field(min_length=1)


# the prediction log's own fields (`lifecycle.serve.predlog`): no column may take these names
LOG_FIELDS = frozenset(
    {"request_id", "record", "time", "model_version", "score", "label", "source", "variant"}
    | {"shadow_version", "shadow_score", "shadow_label", "outcome"}
)


class DataParams(Frozen):
    """Where the table comes from and what its columns mean."""

    source: str = Field(min_length=1)
    query: str | None = None
    rename: dict[str, str] = Field(default_factory=dict)
    id_column: str
    target: str
    positive_label: str | int
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]

    @model_validator(mode="after")
    def _columns_distinct(self) -> DataParams:
        """A column plays one role only."""
        roles = [self.id_column, self.target, *self.numeric, *self.categorical]
        dupes = sorted({c for c in roles if roles.count(c) > 1})
        if dupes:
            raise ValueError(f"columns listed in more than one role: {dupes}")
        clash = sorted(LOG_FIELDS.intersection([self.id_column, *self.numeric, *self.categorical]))
        if clash:
            raise ValueError(f"column names reserved by the prediction log: {clash}")
        if not (self.numeric or self.categorical):
            raise ValueError("at least one numeric or categorical feature is needed")
        if self.source.startswith("sql:") and not self.query:
            raise ValueError("a sql: source needs data.query")
        return self

    @property
    def features(self) -> tuple[str, ...]:
        """Every model input, numeric first."""
        return (*self.numeric, *self.categorical)


class ValidationParams(Frozen):
    """The rules a batch must meet before it may reach training."""

    min_rows: int = Field(ge=1)
    max_null_fraction: dict[str, float] = Field(default_factory=dict)
    ranges: dict[str, tuple[float, float]] = Field(default_factory=dict)
    categories: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    target_labels: tuple[str | int, str | int]

    @model_validator(mode="after")
    def _sane(self) -> ValidationParams:
        """Ranges run low to high; null shares are shares."""
        for col, (low, high) in self.ranges.items():
            if low > high:
                raise ValueError(f"ranges.{col}: low {low} is above high {high}")
        for col, share in self.max_null_fraction.items():
            if not 0 <= share <= 1:
                raise ValueError(f"max_null_fraction.{col}: {share} is not between 0 and 1")
        return self


class Scenario(Frozen):
    """A named drift applied to a monthly batch, for demos and tests."""

    kind: Literal["scale", "category_mix", "new_category", "relation"]
    column: str
    factor: float = 1.0
    value: str | None = None
    share: float = Field(default=0.5, ge=0, le=1)
    strength: float = Field(default=0.8, ge=0, le=1)

    @model_validator(mode="after")
    def _needs_value(self) -> Scenario:
        """Category scenarios name the category they push."""
        if self.kind in ("category_mix", "new_category") and self.value is None:
            raise ValueError(f"a {self.kind} scenario needs a value")
        return self


class SimulationParams(Frozen):
    """How production arrival is simulated from one static table."""

    seed: int
    reference_fraction: float = Field(gt=0, lt=1)
    months: int = Field(ge=1, le=60)
    scenarios: dict[str, Scenario] = Field(default_factory=dict)
    drift_from_month: int = Field(default=2, ge=1, le=60)


class SplitParams(Frozen):
    """The stratified train/holdout split."""

    holdout_size: float = Field(gt=0, lt=1)
    seed: int


class FeatureParams(Frozen):
    """The preprocessing pipeline's choices."""

    numeric_imputer: Literal["median", "mean"] = "median"
    scale_numeric: bool = True


Family = Literal["logistic_regression", "hist_gradient_boosting", "random_forest"]
Metric = Literal["profit", "roc_auc", "pr_auc", "neg_log_loss", "neg_brier", "f1"]


class Candidate(Frozen):
    """One candidate model: a family and its hyperparameters."""

    name: str = Field(pattern=r"^[A-Za-z0-9_\-]+$")
    family: Family
    params: dict[str, Any] = Field(default_factory=dict)


class TrainParams(Frozen):
    """Candidates and how the best is chosen."""

    cv_folds: int = Field(ge=2, le=20)
    selection_metric: Metric
    threshold: float = Field(gt=0, lt=1)
    seed: int
    candidates: tuple[Candidate, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> TrainParams:
        """Candidate names key MLflow runs, so they must differ."""
        names = [c.name for c in self.candidates]
        if len(set(names)) != len(names):
            raise ValueError(f"candidate names repeat: {names}")
        return self


class CampaignParams(Frozen):
    """The retention campaign's economics: what a ranking is worth in money."""

    contact_cost: float = Field(ge=0)
    retained_value: float = Field(ge=0)
    acceptance_rate: float = Field(ge=0, le=1)
    capacity_share: float = Field(gt=0, le=1)


class PromotionParams(Frozen):
    """When a challenger may replace the champion."""

    metric: Metric
    margin: float
    bootstrap_samples: int = Field(ge=100)
    confidence: float = Field(gt=0.5, lt=1)
    seed: int
    min_roc_auc: float = Field(ge=0, le=1)


class MlflowParams(Frozen):
    """Experiment and registered model names (the tracking URI comes from the environment)."""

    experiment: str = Field(min_length=1)
    model_name: str = Field(min_length=1)


Phase = Literal["exploration", "development", "deployment", "maintenance"]
PHASES: tuple[Phase, ...] = ("exploration", "development", "deployment", "maintenance")


class PriceSheet(Frozen):
    """Unit prices of compute and storage (OpenCost's published default list by default)."""

    currency: Literal["USD"] = "USD"
    cpu_core_hour: float = Field(default=0.031611, ge=0)
    ram_gb_hour: float = Field(default=0.004237, ge=0)
    gpu_hour: float = Field(default=0.95, ge=0)
    storage_gb_month: float = Field(default=0.04, ge=0)
    storage_months: float = Field(default=1.0, ge=0)


class ResourceRequest(Frozen):
    """What a run asks the scheduler for; OpenCost charges max(requested, used)."""

    cpu_cores: float = Field(ge=0)
    memory_gb: float = Field(ge=0)
    gpus: float = Field(default=0.0, ge=0)


class ResourceParams(Frozen):
    """Requests per run: 'kind:name', then 'name', then 'kind', then the default."""

    default: ResourceRequest
    overrides: dict[str, ResourceRequest] = Field(default_factory=dict)

    def request_for(self, kind: str, name: str) -> ResourceRequest:
        """The most specific request that matches a run."""
        for key in (f"{kind}:{name}", name, kind):
            if key in self.overrides:
                return self.overrides[key]
        return self.default


class Activity(Frozen):
    """A piece of human work charged when its event happens."""

    role: str = Field(min_length=1)
    hours: float = Field(ge=0)
    phase: Phase | None = None


class StaffingParams(Frozen):
    """Roles with hourly rates and the activities events charge."""

    roles: dict[str, float] = Field(min_length=1)
    activities: dict[str, Activity] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_roles(self) -> StaffingParams:
        """Rates are non-negative and every activity names a known role."""
        for role, rate in self.roles.items():
            if rate < 0:
                raise ValueError(f"staffing.roles.{role} = {rate}: an hourly rate must be >= 0")
        for name, act in self.activities.items():
            if act.role not in self.roles:
                raise ValueError(
                    f"staffing.activities.{name}.role = {act.role!r}: not one of the roles "
                    f"{sorted(self.roles)}"
                )
        return self


class BudgetParams(Frozen):
    """Money allowed per month in each phase, and when the forecast should alert."""

    monthly_usd: dict[Phase, float] = Field(default_factory=dict)
    alert_share: float = Field(default=1.0, gt=0)
    lookback_days: int = Field(default=90, ge=1)

    @model_validator(mode="after")
    def _non_negative(self) -> BudgetParams:
        """A budget is an amount of money, never negative."""
        for phase, usd in self.monthly_usd.items():
            if usd < 0:
                raise ValueError(f"budget.monthly_usd.{phase} = {usd}: must be >= 0")
        return self


class EstimateParams(Frozen):
    """A one-year plan of the project's cost, by phase, to set beside the actuals."""

    hours_per_month: float = Field(default=160.0, gt=0)
    months: dict[Phase, float] = Field(default_factory=dict)
    team: dict[Phase, dict[str, float]] = Field(default_factory=dict)
    data_acquisition_usd: float = Field(default=0.0, ge=0)
    labelling_usd_per_month: float = Field(default=0.0, ge=0)
    cloud_usd_per_month: dict[Phase, float] = Field(default_factory=dict)
    retrains_per_year: float = Field(default=0.0, ge=0)
    retrain_compute_usd: float = Field(default=0.0, ge=0)

    @model_validator(mode="after")
    def _sane(self) -> EstimateParams:
        """Months and head counts are non-negative and the plan fits in a year."""
        for phase, months in self.months.items():
            if months < 0:
                raise ValueError(f"estimate.months.{phase} = {months}: must be >= 0")
        if sum(self.months.values()) > 12 + 1e-9:
            raise ValueError(
                f"estimate.months sum to {sum(self.months.values())}: a one-year plan holds "
                "at most 12"
            )
        for phase, team in self.team.items():
            for role, fte in team.items():
                if fte < 0:
                    raise ValueError(f"estimate.team.{phase}.{role} = {fte}: must be >= 0")
        for phase, usd in self.cloud_usd_per_month.items():
            if usd < 0:
                raise ValueError(f"estimate.cloud_usd_per_month.{phase} = {usd}: must be >= 0")
        return self


class DriftParams(Frozen):
    """Thresholds of the drift and decay check: which test decides, and how far is too far."""

    numeric_test: Literal["ks", "psi"] = "ks"
    categorical_test: Literal["chi2", "psi"] = "chi2"
    psi_bins: int = Field(default=10, ge=2, le=100)
    psi_epsilon: float = Field(default=1e-4, gt=0, lt=0.01)
    psi_threshold: float = Field(default=0.2, gt=0)
    ks_pvalue: float = Field(default=0.05, gt=0, lt=1)
    chi2_pvalue: float = Field(default=0.05, gt=0, lt=1)
    drift_share: float = Field(default=0.3, gt=0, le=1)
    severe_psi: float = Field(default=0.25, gt=0)
    min_rows: int = Field(default=30, ge=2)
    max_missing_increase: float = Field(default=0.05, ge=0, le=1)
    max_unseen_share: float = Field(default=0.02, ge=0, le=1)
    score_psi_threshold: float = Field(default=0.2, gt=0)
    auc_drop: float = Field(default=0.05, ge=0, le=1)
    profit_drop_share: float = Field(default=0.2, ge=0)


class RetrainParams(Frozen):
    """When a retrain may start: enough new labels, a schedule, and its planned cost."""

    min_new_labelled_rows: int = Field(default=500, ge=1)
    schedule_days: float = Field(default=30.0, gt=0)
    planned_usd: float = Field(default=5.0, ge=0)
    window_rows: int | None = Field(default=None, ge=1)


class ServingParams(Frozen):
    """The API's limits, hot swap, micro-batching and prediction log (lifecycle.serve)."""

    max_records: int = Field(default=10_000, ge=1)
    max_body_bytes: int = Field(default=16_000_000, ge=1024)
    threshold: float | None = Field(default=None, gt=0, lt=1)
    poll_seconds: float = Field(default=10.0, ge=0)
    batch_max_rows: int = Field(default=256, ge=1)
    batch_wait_ms: float = Field(default=0.0, ge=0, le=1000)
    log_flush_seconds: float = Field(default=1.0, gt=0, le=60)
    log_buffer_rows: int = Field(default=20_000, ge=1)
    ledger_period_seconds: float = Field(default=3600.0, ge=60)
    verify_rows: int = Field(default=256, ge=8)
    # the challenger on live traffic (lifecycle.serve.shadow / canary)
    challenger_alias: str = Field(default="challenger", pattern=r"^[A-Za-z][A-Za-z0-9_\-]*$")
    shadow: bool = False
    shadow_max_added_ms: float = Field(default=5.0, gt=0, le=1000)
    shadow_max_delay_seconds: float = Field(default=5.0, gt=0, le=300)
    shadow_queue_rows: int = Field(default=20_000, ge=1)
    shadow_min_labelled: int = Field(default=200, ge=1)
    canary_share: float = Field(default=0.0, ge=0, le=1)
    canary_window: int = Field(default=200, ge=10, le=100_000)
    canary_min_requests: int = Field(default=20, ge=1)
    canary_max_error_rate: float = Field(default=0.05, ge=0, le=1)
    canary_max_p95_ms: float = Field(default=250.0, gt=0)

    @model_validator(mode="after")
    def _canary_window_holds_min(self) -> ServingParams:
        """The step-back rule needs its minimum of requests to fit in the window."""
        if self.canary_min_requests > self.canary_window:
            raise ValueError(
                f"canary_min_requests ({self.canary_min_requests}) is more than "
                f"canary_window ({self.canary_window})"
            )
        return self


class OrchestrationParams(Frozen):
    """How flows run: Dask cluster for the candidate fits, work pool, deployment schedules."""

    dask_address: str | None = None
    dask_workers: int = Field(default=2, ge=1, le=64)
    work_pool: str = Field(default="lifecycle-process", min_length=1)
    ingest_cron: str = Field(default="0 6 1 * *", min_length=9)
    monitor_cron: str = Field(default="0 7 * * *", min_length=9)
    timezone: str = "UTC"
    monitor_month: int = Field(default=1, ge=1)
    monitor_scenario: str | None = None


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
        labels = [str(x) for x in self.validation.target_labels]
        if str(self.data.positive_label) not in labels:
            raise ValueError(
                f"data.positive_label {self.data.positive_label!r} is not one of "
                f"validation.target_labels {labels}"
            )
        return self

    def section_hash(self, *sections: str) -> str:
        """A short, stable hash of some sections (or all), to fingerprint what a run used."""
        dump = self.model_dump(mode="json")
        chosen = {s: dump[s] for s in sections} if sections else dump
        blob = json.dumps(chosen, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def _format_errors(err: ValidationError, raw: dict[str, Any], source: Path) -> str:
    """One line per broken rule: the key's path, the value found and the rule."""
    lines = [f"{source}: {err.error_count()} invalid value(s)"]
    for e in err.errors():
        path = ".".join(str(p) for p in e["loc"]) or "<root>"
        value: Any = e.get("input", raw)
        shown = "<missing>" if e["type"] == "missing" else repr(value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        lines.append(f"  {path} = {shown}: {e['msg']}")
    return "\n".join(lines)


def parse_params(raw: Any, source: Path = DEFAULT_PARAMS) -> Params:
    """Validate an already-loaded mapping (tests and overlays use this)."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: the top level must be a mapping, got {type(raw).__name__}")
    try:
        return Params.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(_format_errors(err, raw, source)) from None


def load_params(path: Path | str | None = None) -> Params:
    """Read and validate params.yaml (LIFECYCLE_PARAMS or ./params.yaml by default)."""
    import os

    import yaml

    source = Path(path or os.environ.get("LIFECYCLE_PARAMS") or DEFAULT_PARAMS)
    if not source.is_file():
        raise ConfigError(f"{source}: params file not found")
    try:
        raw = yaml.safe_load(source.read_text())
    except yaml.YAMLError as err:
        raise ConfigError(f"{source}: not valid YAML: {err}") from None
    return parse_params(raw, source)


ENVIRONMENTS = ("staging", "production")


def _deep_merge(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """Overlay mappings key by key; anything else (lists, scalars) replaces the base value."""
    merged = dict(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def overlay_path(source: Path, env: str) -> Path:
    """params.<env>.yaml beside the base file (params.yaml -> params.production.yaml)."""
    return source.with_name(f"{source.stem}.{env}{source.suffix}")


def load_params_for(env: str | None = None, path: Path | str | None = None) -> Params:
    """params.yaml with the environment's overlay merged over it (env or LIFECYCLE_ENV)."""
    import os

    import yaml

    chosen = env if env is not None else os.environ.get("LIFECYCLE_ENV") or None
    if chosen is None:
        return load_params(path)
    if chosen not in ENVIRONMENTS:
        raise ConfigError(f"LIFECYCLE_ENV = {chosen!r}: must be one of {list(ENVIRONMENTS)}")
    source = Path(path or os.environ.get("LIFECYCLE_PARAMS") or DEFAULT_PARAMS)
    extra = overlay_path(source, chosen)
    if not source.is_file():
        raise ConfigError(f"{source}: params file not found")
    if not extra.is_file():
        raise ConfigError(f"{extra}: the overlay of environment {chosen!r} is missing")
    try:
        raw = yaml.safe_load(source.read_text())
        more = yaml.safe_load(extra.read_text()) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"{source} or {extra}: not valid YAML: {err}") from None
    if not isinstance(raw, dict) or not isinstance(more, dict):
        raise ConfigError(f"{source} and {extra}: the top level must be a mapping")
    return parse_params(_deep_merge(raw, more), extra)
