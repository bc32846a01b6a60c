"""The cost ledger: meter every run, price it, store it, report it (submodules import lazily)."""
