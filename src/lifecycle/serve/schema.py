"""Request and response schemas generated from params: another table works by params alone.

Numeric features are finite floats within +-1e15 (null only where `validation.max_null_fraction`
tolerates nulls, since the pipeline imputes them); categorical features are one of
`validation.categories` where listed, else any string. A record may also carry the customer
id (`data.id_column`, a string or an integer), which canary routing is sticky by. Unknown
fields are refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal, NotRequired

from pydantic import ConfigDict, Field, TypeAdapter, ValidationError
from typing_extensions import TypedDict

from lifecycle.config import Params
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


def _numeric(nullable: bool) -> Any:
    """A finite float of sane size (JSON numbers only), nullable when params allow nulls."""
    finite = Annotated[
        float, Field(strict=True, allow_inf_nan=False, ge=-MAX_MAGNITUDE, le=MAX_MAGNITUDE)
    ]
    return finite | None if nullable else finite


def _categorical(categories: tuple[str, ...] | None, nullable: bool) -> Any:
    """One of the known categories when params list them, else any string."""
    kind: Any = Literal[tuple(categories)] if categories else Annotated[str, Field(strict=True)]
    return kind | None if nullable else kind


def _customer_id() -> Any:
    """The optional id a record may carry: canary routing is sticky by it, the log keeps it."""
    text = Annotated[str, Field(strict=True, min_length=1, max_length=128)]
    # integers within 2**53: exact in every JSON reader of the log (pandas reads larger as floats)
    number = Annotated[int, Field(strict=True, gt=-(2**53), lt=2**53)]
    return text | number


def record_type(params: Params) -> type:
    """A TypedDict of every feature (and the optional customer id), from data and validation."""
    data, rules = params.data, params.validation
    fields: dict[str, Any] = {}
    for col in data.numeric:
        fields[col] = _numeric(col in rules.max_null_fraction)
    for col in data.categorical:
        fields[col] = _categorical(rules.categories.get(col), col in rules.max_null_fraction)
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
        "record": NotRequired[Annotated[int, Field(ge=0, strict=True)]],
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
    """FastAPI-style 422 details: where (the field), what rule, and a plain message."""
    out = []
    for e in err.errors(include_url=False, include_input=False, include_context=False):
        loc = [prefix, *e["loc"]]
        out.append({"loc": loc, "msg": e["msg"], "type": e["type"]})
    return out
