"""Helpers of the GitHub workflows (`lifecycle ci`)."""
