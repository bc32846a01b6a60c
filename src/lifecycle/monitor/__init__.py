"""Drift of inputs and predictions, and performance once labels arrive: one verdict with reasons."""
