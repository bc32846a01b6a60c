"""A portable copy of a model: skl2onnx export, checked against the pipeline with onnxruntime.

The whole sklearn pipeline (imputers, scaler, one-hot encoder and the estimator) becomes one
ONNX graph with one input per feature column (float for numeric, string for categorical).
The export counts only if onnxruntime's churn scores equal the pipeline's within
`release.onnx_tolerance` (1e-5) on every holdout row. Numeric inputs are fed as doubles,
because tree thresholds learned in float64 compared in float32 flip rows near a split.
A family the converter cannot handle is not a failure: the run and the model version get the
tag `onnx.status = unsupported: <reason>` and the pipeline goes on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lifecycle.config import Params
from lifecycle.features import model_inputs
from lifecycle.registry import RegistryError, client, load_sklearn

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from lifecycle.paths import Paths

ARTIFACT_DIR = "onnx"
ONNX_FILE = "model.onnx"
STATUS_TAG = "onnx.status"
TARGET_OPSET = {"": 17, "ai.onnx.ml": 3}


@dataclass(frozen=True)
class OnnxExport:
    """The outcome of one export: ok, unsupported or parity_failed, and the parity figures."""

    status: str
    reason: str
    rows: int
    max_abs_diff: float | None
    tolerance: float
    seconds: float
    onnx: bytes | None = None

    @property
    def ok(self) -> bool:
        """The ONNX file may replace the pipeline."""
        return self.status == "ok"

    def tag(self) -> str:
        """The plain value of the onnx.status tag."""
        if self.status == "ok":
            diff = self.max_abs_diff or 0.0
            return f"ok: max |diff| {diff:.2e} <= {self.tolerance:.0e} on {self.rows} rows"
        return f"{self.status}: {self.reason}"[:4000]


def _initial_types(params: Params) -> list[tuple[str, Any]]:
    """One [None, 1] input per feature: doubles for numeric columns, strings for categorical."""
    from skl2onnx.common.data_types import DoubleTensorType, StringTensorType

    types: list[tuple[str, Any]] = [(c, DoubleTensorType([None, 1])) for c in params.data.numeric]
    types += [(c, StringTensorType([None, 1])) for c in params.data.categorical]
    return types


def onnx_inputs(frame: pd.DataFrame, params: Params) -> dict[str, np.ndarray]:
    """The feed onnxruntime needs: each column as a [n, 1] array (missing categories as '')."""
    import numpy as np

    feed: dict[str, np.ndarray] = {}
    for c in params.data.numeric:
        feed[c] = frame[c].to_numpy(dtype=np.float64).reshape(-1, 1)
    for c in params.data.categorical:
        values = frame[c].astype(object).where(frame[c].notna(), "")
        feed[c] = np.asarray(values.astype(str), dtype=object).reshape(-1, 1)
    return feed


def _string_missing(model: Any) -> Any:
    """A copy whose string imputers look for '' (skl2onnx refuses NaN as a string's missing)."""
    import copy

    from sklearn.impute import SimpleImputer

    clone = copy.deepcopy(model)
    stack = [clone]
    while stack:
        node = stack.pop()
        stats = getattr(node, "statistics_", None)
        if isinstance(node, SimpleImputer) and stats is not None and stats.dtype == object:
            node.missing_values = ""
        for attr in ("steps", "transformers_"):
            stack += [part[1] for part in getattr(node, attr, [])]
    return clone


def _float32_rounding(model: Any) -> Any:
    """Tree ensembles: round the features to float32 then back, as scikit-learn's trees do."""
    import numpy as np
    from skl2onnx.sklapi import CastTransformer
    from sklearn.pipeline import Pipeline

    estimator = model.steps[-1][1]
    if not hasattr(estimator, "estimators_") and not hasattr(estimator, "tree_"):
        return model
    casts = [
        ("to_float32", CastTransformer(dtype=np.float32)),
        ("to_float64", CastTransformer(dtype=np.float64)),
    ]
    steps = [*model.steps[:-1], *casts, model.steps[-1]]
    return Pipeline(steps)


_DOUBLE_IMPUTER = False


def _register_double_imputer() -> None:
    """Let SimpleImputer take doubles (onnxruntime's Imputer op is float-only): IsNaN + Where."""
    global _DOUBLE_IMPUTER
    if _DOUBLE_IMPUTER:
        return
    import numpy as np
    from onnx import TensorProto
    from skl2onnx import update_registered_converter
    from skl2onnx.common._registration import _converter_pool, _shape_calculator_pool
    from skl2onnx.common.data_types import DoubleTensorType
    from skl2onnx.operator_converters.common import concatenate_variables
    from sklearn.impute import SimpleImputer

    original = _converter_pool["SklearnImputer"]

    def convert(scope: Any, operator: Any, container: Any) -> None:
        if not isinstance(operator.inputs[0].type, DoubleTensorType):
            original(scope, operator, container)
            return
        op = operator.raw_operator
        if not (isinstance(op.missing_values, float) and np.isnan(op.missing_values)):
            original(scope, operator, container)
            return
        joined = concatenate_variables(scope, operator.inputs, container)
        fill = scope.get_unique_variable_name("fill")
        stats = np.asarray(op.statistics_, dtype=np.float64)
        container.add_initializer(fill, TensorProto.DOUBLE, [1, stats.size], stats.tolist())
        mask = scope.get_unique_variable_name("isnan")
        container.add_node("IsNaN", [joined], [mask], name=scope.get_unique_operator_name("IsNaN"))
        container.add_node(
            "Where",
            [mask, fill, joined],
            [operator.outputs[0].full_name],
            name=scope.get_unique_operator_name("Where"),
        )

    update_registered_converter(
        SimpleImputer, "SklearnImputer", _shape_calculator_pool["SklearnImputer"], convert
    )
    _DOUBLE_IMPUTER = True


def to_onnx(model: Any, params: Params) -> bytes:
    """Convert a fitted pipeline to ONNX bytes (probabilities as a plain tensor, no zipmap)."""
    from skl2onnx import convert_sklearn

    _register_double_imputer()
    model = _float32_rounding(_string_missing(model))
    onx = convert_sklearn(
        model,
        initial_types=_initial_types(params),
        options={id(model.steps[-1][1]): {"zipmap": False}},
        target_opset=TARGET_OPSET,
    )
    return bytes(onx.SerializeToString())


def onnx_scores(onnx: bytes, frame: pd.DataFrame, params: Params) -> np.ndarray:
    """Positive-class probabilities from onnxruntime."""
    import numpy as np
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(onnx, options, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    out = session.run([names[-1]], onnx_inputs(frame, params))[0]
    return np.asarray(out, dtype=np.float64)[:, 1]


def _short(err: BaseException, most: int = 160) -> str:
    """The root cause of an error in one short line (skl2onnx dumps whole trees in messages)."""
    root = err
    while root.__cause__ is not None or root.__context__ is not None:
        root = root.__cause__ or root.__context__  # type: ignore[assignment]
    parts = [err] if root is err else [root, err]
    texts = []
    for e in parts:
        text = " ".join(str(e).split())
        texts.append(f"{type(e).__name__}: {text[:most]}{'...' if len(text) > most else ''}")
    return " (from) ".join(texts)


def export(model: Any, frame: pd.DataFrame, params: Params) -> OnnxExport:
    """Convert and prove parity on `frame` (model inputs); unsupported families are reported."""
    import time

    import numpy as np

    tol = params.release.onnx_tolerance
    started = time.perf_counter()
    x = model_inputs(frame, params.data)
    try:
        blob = to_onnx(model, params)
    except Exception as err:  # skl2onnx raises many types for a family it cannot convert
        kind = type(model.steps[-1][1]).__name__ if hasattr(model, "steps") else "model"
        reason = f"skl2onnx cannot convert {kind}: {_short(err)}"
        return OnnxExport(
            "unsupported", " ".join(reason.split()), 0, None, tol, time.perf_counter() - started
        )
    try:
        got = onnx_scores(blob, x, params)
    except Exception as err:  # a graph onnxruntime refuses is as unusable as no graph
        reason = f"onnxruntime cannot run the converted graph: {_short(err)}"
        return OnnxExport(
            "unsupported", " ".join(reason.split()), 0, None, tol, time.perf_counter() - started
        )
    want = np.asarray(model.predict_proba(x)[:, 1], dtype=np.float64)
    diff = float(np.max(np.abs(got - want))) if len(want) else 0.0
    seconds = time.perf_counter() - started
    if not diff <= tol:
        worst = int(np.argmax(np.abs(got - want)))
        reason = (
            f"max |diff| {diff:.2e} > {tol:.0e} on {len(want)} rows "
            f"(row {worst}: pipeline {want[worst]:.6f}, onnx {got[worst]:.6f})"
        )
        return OnnxExport("parity_failed", reason, len(want), diff, tol, seconds)
    return OnnxExport("ok", "", len(want), diff, tol, seconds, blob)


def export_version(params: Params, paths: Paths, version: str) -> OnnxExport:
    """Export a registered version, prove parity on the holdout, and record it in MLflow."""
    import tempfile
    from pathlib import Path

    import pandas as pd

    name = params.mlflow.model_name
    c = client(paths)
    model = load_sklearn(paths, name, version)
    result = export(model, pd.read_parquet(paths.holdout_set), params)
    run_id = c.get_model_version(name, version).run_id
    tags = {STATUS_TAG: result.tag()}
    if result.max_abs_diff is not None:
        tags["onnx.max_abs_diff"] = f"{result.max_abs_diff:.3e}"
    for key, value in tags.items():
        c.set_model_version_tag(name, version, key, value)
        if run_id:
            c.set_tag(run_id, key, value)
    if run_id:
        if result.max_abs_diff is not None:
            c.log_metric(run_id, "onnx_max_abs_diff", result.max_abs_diff)
        if result.onnx is not None:
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / ONNX_FILE
                path.write_bytes(result.onnx)
                c.log_artifact(run_id, str(path), ARTIFACT_DIR)
            c.set_tag(run_id, "onnx.artifact", f"{ARTIFACT_DIR}/{ONNX_FILE}")
    return result


def load_onnx(params: Params, paths: Paths, version: str) -> bytes:
    """The ONNX bytes logged with a version (for serving it without scikit-learn)."""
    from pathlib import Path

    import mlflow

    c = client(paths)
    run_id = c.get_model_version(params.mlflow.model_name, version).run_id
    try:
        local = mlflow.artifacts.download_artifacts(
            run_id=run_id, artifact_path=f"{ARTIFACT_DIR}/{ONNX_FILE}"
        )
    except Exception as err:  # MLflow raises its own and OS errors for a missing artifact
        raise RegistryError(
            f"version {version} has no ONNX file ({STATUS_TAG}: "
            f"{c.get_model_version(params.mlflow.model_name, version).tags.get(STATUS_TAG)})"
        ) from err
    return Path(local).read_bytes()


def ensure_exported(params: Params, paths: Paths, version: str) -> str:
    """Export a version once: the existing onnx.status tag if it has one, else a fresh export."""
    mv = client(paths).get_model_version(params.mlflow.model_name, version)
    existing = (mv.tags or {}).get(STATUS_TAG)
    if existing:
        return str(existing)
    return export_version(params, paths, version).tag()
