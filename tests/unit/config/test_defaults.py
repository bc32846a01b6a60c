"""A default lives in one place: params.yaml may only repeat the models' defaults, never differ."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from lifecycle.config import Params

# keys every use case must state: the models have no default for them
REQUIRED = {
    "project.name",
    "data.source",
    "data.id_column",
    "data.target",
    "data.positive_label",
    "data.numeric",
    "data.categorical",
    "validation.min_rows",
    "validation.target_labels",
    "simulation.seed",
    "simulation.reference_fraction",
    "simulation.months",
    "split.holdout_size",
    "split.seed",
    "train.cv_folds",
    "train.selection_metric",
    "train.threshold",
    "train.seed",
    "train.candidates",
    "campaign.contact_cost",
    "campaign.retained_value",
    "campaign.acceptance_rate",
    "campaign.capacity_share",
    "promotion.metric",
    "promotion.margin",
    "promotion.bootstrap_samples",
    "promotion.confidence",
    "promotion.seed",
    "promotion.min_roc_auc",
    "mlflow.experiment",
    "mlflow.model_name",
}

# the use case's own values, deliberately not code defaults: they name the table's columns, are
# tuned to its base rates, or are this organisation's economics (DESIGN principle 9)
USE_CASE = {
    "data.rename": "names the table's columns",
    "validation.max_null_fraction": "names the table's columns",
    "validation.ranges": "names the table's columns",
    "validation.categories": "names the table's columns",
    "simulation.scenarios": "names the table's columns",
    "fairness.sensitive": "names the table's columns",
    "behaviour.directional": "names the table's columns",
    "behaviour.slices": "names the table's columns",
    "fairness.min_selection_ratio": "tuned to this table's base rates (see params.yaml)",
    "fairness.max_recall_difference": "tuned to this table's base rates (see params.yaml)",
    "fairness.max_precision_difference": "tuned to this table's base rates (see params.yaml)",
    "resources.overrides": "this deployment's resource requests",
    "staffing.roles": "this organisation's hourly rates",
    "staffing.activities": "this organisation's staffing activities",
    "budget.monthly_usd": "this project's budget",
    "estimate.months": "this project's plan",
    "estimate.team": "this project's plan",
    "estimate.data_acquisition_usd": "this project's plan",
    "estimate.labelling_usd_per_month": "this project's plan",
    "estimate.cloud_usd_per_month": "this project's plan",
    "estimate.retrains_per_year": "this project's plan",
    "estimate.retrain_compute_usd": "this project's plan",
}


def _same(a: Any, b: Any) -> bool:
    """YAML's value equals the model's default (lists and tuples alike, 1 == 1.0, True is not 1)."""
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return float(a) == float(b)
    return bool(a == b)


def _model(annotation: Any) -> type[BaseModel] | None:
    """The section model a field holds, if it holds one."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _walk(
    node: dict[str, Any], model: type[BaseModel] | None, default: dict[str, Any] | None, path: str
) -> tuple[list[str], set[str]]:
    """Keys whose value differs from the default in force there, and keys with no default."""
    differ: list[str] = []
    required: set[str] = set()
    for key, value in node.items():
        here = f"{path}.{key}" if path else key
        if here in USE_CASE:
            continue
        field = model.model_fields.get(key) if model is not None else None
        sub = _model(field.annotation) if field is not None else None
        if default is not None:
            found: Any = default.get(key, KeyError)
        elif field is not None and not field.is_required():
            found = field.get_default(call_default_factory=True)
            found = found.model_dump() if isinstance(found, BaseModel) else found
        elif sub is not None and isinstance(value, dict):
            more, req = _walk(value, sub, None, here)
            differ += more
            required |= req
            continue
        else:
            required.add(here)
            continue
        if isinstance(value, dict) and isinstance(found, dict) and sub is not None:
            more, req = _walk(value, sub, found, here)
            differ += more
            required |= req
        elif found is KeyError or not _same(value, found):
            differ.append(f"{here}: params.yaml {value!r}, model default {found!r}")
    return differ, required


def test_params_yaml_repeats_the_model_defaults(repo_params_mapping: dict[str, Any]) -> None:
    differ, required = _walk(repo_params_mapping, Params, None, "")
    assert differ == [], "params.yaml and the models disagree (change the model's default):\n" + (
        "\n".join(differ)
    )
    assert required == REQUIRED


def test_use_case_keys_are_in_params_yaml(repo_params_mapping: dict[str, Any]) -> None:
    for dotted in USE_CASE:
        node: Any = repo_params_mapping
        for key in dotted.split("."):
            assert isinstance(node, dict) and key in node, f"{dotted} is not in params.yaml"
            node = node[key]


def test_the_walk_catches_a_disagreement(repo_params_mapping: dict[str, Any]) -> None:
    changed = {**repo_params_mapping, "retrain": {**repo_params_mapping["retrain"]}}
    changed["retrain"]["window_rows"] = 123
    differ, _ = _walk(changed, Params, None, "")
    assert differ == ["retrain.window_rows: params.yaml 123, model default 500"]
