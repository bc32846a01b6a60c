"""Request and response schemas generated from params: another table works by params alone.

The rules are the data contract of `lifecycle.config.contract`, the ones the batch validator
enforces: numeric features are finite floats within `validation.ranges` (else within +-1e15),
null only where `validation.max_null_fraction` tolerates nulls (the pipeline imputes them);
categorical features are one of `validation.categories` where listed, else any string. With
`serving.out_of_contract: flag` the schema keeps only the loose limits (finite, +-1e15, any
string) and `ServiceState` flags each record that breaks a contract rule instead. A record
may also carry the customer id (`data.id_column`, a string or an integer; an integral float
such as -149.0 is that integer), which canary routing is sticky by. Unknown fields are refused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal, NotRequired

from pydantic import BeforeValidator, ConfigDict, Field, TypeAdapter, ValidationError
from typing_extensions import TypedDict

from lifecycle.config import Params
from lifecycle.config.contract import ColumnRule, column_rules
from lifecycle.serve.fastparse import FastDecoder, build_decoders

if TYPE_CHECKING:
    from collections.abc import Sequence

Record = dict[str, Any]
# finite but absurd numbers (1e308) overflow to infinity once scaled; no real feature is near
MAX_MAGNITUDE = 1e15


@dataclass(frozen=True)
class OneOrMany:
    """Validators of a body that is one object or a list of them, and its JSON schema."""

    one: TypeAdapter[Any]
    many: TypeAdapter[Any]
    schema: TypeAdapter[Any]
    fast: tuple[FastDecoder, FastDecoder] | None = None  # see `fastparse`: may only say yes

    def parse(self, raw: bytes) -> list[Record]:
        """Validate a JSON body into a list of plain dicts; a list's errors name its index."""
        many = raw.lstrip()[:1] == b"["
        if self.fast is not None:
            rows = self.fast[many](raw)
            if rows is not None:
                return rows
        if many:
            return list(self.many.validate_json(raw))
        return [self.one.validate_json(raw)]

    def openapi(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The body schema and the component schemas it refers to."""
        schema = self.schema.json_schema(ref_template="#/components/schemas/{model}")
        defs = schema.pop("$defs", {})
        return schema, defs


@dataclass(frozen=True)
class RequestSchema:
    """The validators of one params file's prediction and feedback bodies."""

    features: tuple[str, ...]
    predict: OneOrMany
    feedback: OneOrMany
    max_records: int

    def parse_rows(self, rows: Sequence[Record]) -> list[Record]:
        """Validate already-decoded rows (offline scoring) with the same rules as the API."""
        return list(self.predict.many.validate_python(rows))


def _numeric(rule: ColumnRule, strict: bool) -> Any:
    """A finite float within the contract's range (strict) or +-1e15, nullable when allowed."""
    low, high = -MAX_MAGNITUDE, MAX_MAGNITUDE
    if strict and rule.low is not None and rule.high is not None:
        low, high = rule.low, rule.high
    finite = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=low, le=high)]
    return finite | None if rule.nullable else finite


def _categorical(rule: ColumnRule, strict: bool) -> Any:
    """One of the contract's categories (strict, when listed), else any string."""
    cats = rule.categories if strict else None
    kind: Any = Literal[tuple(cats)] if cats else Annotated[str, Field(strict=True)]
    return kind | None if rule.nullable else kind


def _integral(value: Any) -> Any:
    """An integral float (-149.0) as the integer it is; anything else as it came."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _customer_id() -> Any:
    """The optional id a record may carry: canary routing is sticky by it, the log keeps it."""
    text = Annotated[str, Field(strict=True, min_length=1, max_length=128)]
    # integers within 2**53: exact in every JSON reader of the log (pandas reads larger as floats)
    number = Annotated[int, BeforeValidator(_integral), Field(strict=True, gt=-(2**53), lt=2**53)]
    return text | number


def record_type(params: Params) -> type:
    """A TypedDict of every feature (and the optional customer id), from data and validation."""
    data = params.data
    rules = column_rules(data, params.validation)
    strict = params.serving.out_of_contract == "reject"
    fields: dict[str, Any] = {}
    for col in data.numeric:
        fields[col] = _numeric(rules[col], strict)
    for col in data.categorical:
        fields[col] = _categorical(rules[col], strict)
    fields[data.id_column] = NotRequired[_customer_id()]
    make: Any = TypedDict
    record: Any = make("Record", fields)
    record.__pydantic_config__ = ConfigDict(extra="forbid", title="Record")
    return record  # type: ignore[no-any-return]


def feedback_type(params: Params) -> type:
    """One outcome: the request id, the record's index in that request, the real label."""
    labels = tuple(params.validation.target_labels)
    fields: dict[str, Any] = {
        "request_id": Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[\w.\-]+$")],
        # below 2**53: exact in every JSON reader, and fits the outcome index's INTEGER
        "record": NotRequired[Annotated[int, Field(ge=0, lt=2**53, strict=True)]],
        "outcome": Literal[labels],
    }
    make: Any = TypedDict
    fb: Any = make("Feedback", fields)
    fb.__pydantic_config__ = ConfigDict(extra="forbid", title="Feedback")
    return fb  # type: ignore[no-any-return]


def one_or_many(
    item: type, limit: int, fast: tuple[FastDecoder, FastDecoder] | None = None
) -> OneOrMany:
    """Adapters for one item, a list of 1..limit items, and their union (for the schema)."""
    many = Annotated[list[item], Field(min_length=1, max_length=limit)]  # type: ignore[valid-type]
    either: Any = item | many  # type: ignore[operator]
    return OneOrMany(TypeAdapter(item), TypeAdapter(many), TypeAdapter(either), fast)


def build_schema(params: Params) -> RequestSchema:
    """The request schemas of this params file (one record, or a list of 1..max_records).

    Prediction bodies are first given to the msgspec decoders (`fastparse`); pydantic decides
    every body they refuse.
    """
    limit = params.serving.max_records
    decoders = build_decoders(params, MAX_MAGNITUDE)
    return RequestSchema(
        params.data.features,
        one_or_many(record_type(params), limit, decoders),
        one_or_many(feedback_type(params), limit),
        limit,
    )


def error_details(err: ValidationError, prefix: str = "body") -> list[dict[str, Any]]:
    """FastAPI-style 422 details: where (the field), what rule, a plain message, the value.

    The value is given back only when it is a short scalar (a finite number, a short string,
    null), so a 422 never echoes a whole record or a large body, nor a NaN JSON cannot carry.
    """
    out = []
    for e in err.errors(include_url=False, include_context=False):
        loc = [prefix, *e["loc"]]
        one: dict[str, Any] = {"loc": loc, "msg": e["msg"], "type": e["type"]}
        value = e.get("input")
        number = isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))
        scalar = number or (value is None and e["type"] != "missing")
        if scalar or (isinstance(value, str) and len(value) <= 64):
            one["input"] = value
        out.append(one)
    return out
