"""Where every file of the project lives, relative to one root (no folders made at import)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

USE_CASES_DIR = "use_cases"
DEFAULT_USE_CASE = "default"  # the use case of the root params.yaml, as the ledger names it


@dataclass(frozen=True)
class Paths:
    """The project's folders and files under one root (a use case's data and reports in its own
    folder, use_cases/<name>/; the MLflow store and the ledger stay shared at the root)."""

    root: Path
    use_case: str | None = None

    @classmethod
    def from_env(cls) -> Paths:
        """LIFECYCLE_HOME if set, else the current folder; LIFECYCLE_USE_CASE picks a use case."""
        # lazy: pydantic-settings costs about 0.35 s, and `lifecycle --help` imports this module
        from lifecycle.settings import get_settings

        found = get_settings()
        return cls(found.root, found.use_case)

    @property
    def use_case_name(self) -> str:
        """This use case's name in the ledger and the portfolio ("default" for the root's)."""
        return self.use_case or DEFAULT_USE_CASE

    @property
    def home(self) -> Path:
        """The folder holding this use case's params, data and reports (the root by default)."""
        return use_case_dir(self.root, self.use_case) if self.use_case else self.root

    @property
    def data(self) -> Path:
        """All data: raw, batches, validated, processed, reference, predictions."""
        return self.home / "data"

    @property
    def raw(self) -> Path:
        """Immutable snapshots, as they came."""
        return self.data / "raw"

    @property
    def snapshot(self) -> Path:
        """The whole table as the source gave it."""
        return self.raw / "snapshot.parquet"

    @property
    def raw_reference(self) -> Path:
        """The reference (training) period, as it came."""
        return self.raw / "reference.parquet"

    @property
    def batches(self) -> Path:
        """Simulated monthly arrivals."""
        return self.data / "batches"

    def batch(self, month: int) -> Path:
        """The file of one simulated month."""
        return self.batches / f"month_{month:02d}.parquet"

    @property
    def quarantine(self) -> Path:
        """Batches that failed validation, each with its report."""
        return self.data / "quarantine"

    @property
    def validated(self) -> Path:
        """The dataset that passed validation."""
        return self.data / "validated" / "dataset.parquet"

    @property
    def train_set(self) -> Path:
        """Rows the candidates are fitted on."""
        return self.data / "processed" / "train.parquet"

    @property
    def holdout_set(self) -> Path:
        """Rows champion and challenger are judged on."""
        return self.data / "processed" / "holdout.parquet"

    @property
    def reference(self) -> Path:
        """The training period's features, the baseline for drift."""
        return self.data / "reference" / "reference.parquet"

    @property
    def predictions(self) -> Path:
        """The service's prediction log, partitioned by day."""
        return self.data / "predictions"

    @property
    def reports(self) -> Path:
        """Metrics, plots, validation and drift reports."""
        return self.home / "reports"

    @property
    def validation_report(self) -> Path:
        """The last validation result of the reference period."""
        return self.reports / "validation.json"

    @property
    def train_report(self) -> Path:
        """Candidates, their scores and the challenger registered."""
        return self.reports / "train.json"

    @property
    def metrics(self) -> Path:
        """The champion's holdout metrics (dvc metrics)."""
        return self.reports / "metrics.json"

    @property
    def promotion(self) -> Path:
        """The last promotion decision and its reason."""
        return self.reports / "promotion.json"

    @property
    def plots(self) -> Path:
        """ROC, PR, calibration and gain curves (dvc plots)."""
        return self.reports / "plots"

    @property
    def mlflow_db(self) -> Path:
        """The embedded MLflow tracking and registry store."""
        return self.root / "mlflow.db"

    @property
    def mlflow_artifacts(self) -> Path:
        """Where the embedded store keeps model files."""
        return self.root / "mlartifacts"


def use_case_dir(root: Path, name: str) -> Path:
    """Where the use case `name` lives under a project root."""
    return root / USE_CASES_DIR / name
