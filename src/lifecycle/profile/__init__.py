"""Profiling a table into a use case: what each column is, and the params that follow from it."""

from lifecycle.profile.derive import use_case_params
from lifecycle.profile.report import review_report
from lifecycle.profile.table import ColumnProfile, ProfileError, TableProfile, profile_table

__all__ = [
    "ColumnProfile",
    "ProfileError",
    "TableProfile",
    "profile_table",
    "review_report",
    "use_case_params",
]
