"""The value ledger through the simulation: estimate each month when served, realize it later.

Month m is estimated from its scores as soon as it is served; its outcomes count as arrived
`value.outcome_lag_periods` months later, when it is realized and the estimate's error is
stored. Months still inside the lag when the run ends stay estimated (their outcomes have not
arrived yet). The service still receives every month's feedback at once (the retrain needs the
labels); the lag governs only what the value ledger may know.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from lifecycle.config import Params
from lifecycle.paths import Paths
from lifecycle.simulate.results import MonthResult
from lifecycle.value.calibration import Calibration
from lifecycle.value.holdout import calibration_for
from lifecycle.value.period import Period, period_entries
from lifecycle.value.store import REALIZED, ValueEntry, record


@dataclass
class ValueBook:
    """The months served so far and what the value ledger knows about each."""

    params: Params
    paths: Paths
    url: str | None = None
    periods: dict[int, Period] = field(default_factory=dict)
    calibrations: dict[str, Calibration] = field(default_factory=dict)

    def after_month(self, done: list[MonthResult]) -> list[MonthResult]:
        """Estimate the month just served, realize the one whose outcomes now arrive."""
        latest = done[-1]
        end = datetime.now(UTC)
        self.periods[latest.month] = Period(
            Path(latest.window).stem, end - timedelta(seconds=latest.seconds), end, {}
        )
        out = list(done)
        out[-1] = self._apply(latest, self._entries(latest, reveal=False))
        due = latest.month - self.params.value.outcome_lag_periods
        for i, row in enumerate(out):
            if row.month == due:
                out[i] = self._apply(row, self._entries(row, reveal=True))
        return out

    def window_file(self, row: MonthResult) -> Path:
        """The month's served rows (the row names the window; write_window put it here)."""
        named = Path(row.window)
        return (
            named if named.is_file() else self.paths.data / "simulation" / f"{named.name}.parquet"
        )

    def _entries(self, row: MonthResult, *, reveal: bool) -> list[ValueEntry]:
        """The month's entries (one per version that served it), recorded in the ledger."""
        import pandas as pd

        frame = pd.read_parquet(self.window_file(row))
        if not reveal:
            frame = frame.drop(columns=[self.params.data.target])
        for version in {str(v) for v in frame["model_version"]} - set(self.calibrations):
            self.calibrations[version] = calibration_for(self.params, self.paths, version)
        found = period_entries(frame, self.params, self.calibrations,
                               self.periods[row.month], reveal=reveal)  # fmt: skip
        return [record(e, self.url) for e in found]

    @staticmethod
    def _apply(row: MonthResult, entries: list[ValueEntry]) -> MonthResult:
        """The month's row with the value figures summed over the versions that served it."""

        def total(name: str) -> float | None:
            got = [getattr(e, name) for e in entries]
            return None if not got or any(g is None for g in got) else float(sum(got))

        realized = all(e.status == REALIZED for e in entries) and bool(entries)
        status = "realized" if realized else entries[0].status if entries else "-"
        return dataclasses.replace(
            row, value_status=status, estimated_usd=total("est_value_usd"),
            estimated_low=total("est_value_low"), estimated_high=total("est_value_high"),
            realized_usd=total("value_usd") if realized else None,
            decay=any(e.decay for e in entries),
        )  # fmt: skip
