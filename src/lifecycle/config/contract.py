"""The data contract: each column's range, categories and null rule, from `validation` params.

One definition, two enforcers: the Great Expectations suite (`lifecycle.validate`) checks a
batch with these rules, and the API's request schema (`lifecycle.serve.schema`) checks each
record with the same ones, so a value the pipeline calls impossible is never scored silently.
A batch tolerates a share of nulls (`max_null_fraction`); one record may be null in a column
whose share is above 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from lifecycle.config.data import DataParams, ValidationParams


@dataclass(frozen=True)
class ColumnRule:
    """What one column's values may be (None: no rule of that kind)."""

    column: str
    kind: Literal["numeric", "categorical", "other"]
    low: float | None = None
    high: float | None = None
    categories: tuple[str, ...] | None = None
    max_null_fraction: float = 0.0

    @property
    def nullable(self) -> bool:
        """Whether one record may leave the column null."""
        return self.max_null_fraction > 0

    def broken(self, value: Any) -> str | None:
        """The rule the value breaks, in words, or None when it keeps every rule."""
        if value is None:
            return None if self.nullable else "must not be null (validation.max_null_fraction)"
        ranged = self.low is not None and self.high is not None
        if ranged and isinstance(value, int | float) and not self.low <= value <= self.high:  # type: ignore[operator]
            return f"must be within [{self.low:g}, {self.high:g}] (validation.ranges)"
        if self.categories is not None and value not in self.categories:
            return f"must be one of {list(self.categories)} (validation.categories)"
        return None


def column_rules(data: DataParams, rules: ValidationParams) -> dict[str, ColumnRule]:
    """Every feature's rule (and any other column the validation params name), by column."""
    kinds: dict[str, Literal["numeric", "categorical", "other"]] = {
        **{c: "numeric" for c in data.numeric},
        **{c: "categorical" for c in data.categorical},
    }
    named = [*data.features, *rules.ranges, *rules.categories]
    out: dict[str, ColumnRule] = {}
    for col in dict.fromkeys(named):
        low, high = rules.ranges.get(col, (None, None))
        out[col] = ColumnRule(
            col,
            kinds.get(col, "other"),
            low,
            high,
            rules.categories.get(col),
            rules.max_null_fraction.get(col, 0.0),
        )
    return out


def violations(record: dict[str, Any], rules: dict[str, ColumnRule]) -> list[str]:
    """Each rule one record breaks, as `column=value: rule` (empty when it keeps them all)."""
    out = []
    for col, rule in rules.items():
        if col in record:
            why = rule.broken(record[col])
            if why is not None:
                out.append(f"{col}={record[col]!r}: {why}")
    return out
