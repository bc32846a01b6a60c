"""Command functions that `lifecycle.cli` registers (one module per command group)."""
