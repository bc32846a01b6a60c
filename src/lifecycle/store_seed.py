"""A fresh SQLite MLflow store made in milliseconds: a copy of an empty store, not 70 migrations.

MLflow creates a new SQLite store by running every schema migration since its first version;
`lifecycle.registry.client` calls `seed_sqlite_store` first, so a store that does not exist yet
starts as a copy of the empty store MLflow's own `_initialize_tables` leaves (made once per
MLflow version, in the user's cache folder).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def store_template_dir() -> Path:
    """Where empty MLflow stores are kept, one per MLflow version: the user's cache folder."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "lifecycle" / "mlflow-store"


def seed_sqlite_store(uri: str, templates: Path | None = None) -> bool:
    """Start a SQLite store that does not exist yet as a copy of an empty one; whether it did.

    MLflow creates a fresh SQLite store by running every schema migration since its first
    version (70 here): about 2-3 s on each fresh store, i.e. on every first run and every test
    or benchmark copy. The empty store that MLflow's own `_initialize_tables` leaves (the
    tables, the alembic revision, the default workspace) is made once per MLflow version and
    copied; MLflow then opens it as any store of its version (it checks the revision) and adds
    the default experiment itself. Any other URI, an existing file, or a template that cannot
    be made (no MLflow internals, a read-only cache): MLflow creates the store as before.
    """
    if not uri.startswith("sqlite:///") or "?" in uri:
        return False
    target = Path(uri.removeprefix("sqlite:///"))
    if target.name in ("", ":memory:") or target.exists() or not target.parent.is_dir():
        return False
    try:
        template = _store_template(templates or store_template_dir())
        if template is None:
            return False
        tmp = target.with_name(f".{target.name}.{os.getpid()}.seed")
        shutil.copyfile(template, tmp)
        try:
            os.link(tmp, target)  # never over a store another process made meanwhile
        except FileExistsError:
            return False
        finally:
            tmp.unlink(missing_ok=True)
    except OSError:
        return False
    return True


def _store_template(folder: Path) -> Path | None:
    """The empty store of the installed MLflow version, made on first use (None: cannot)."""
    import mlflow

    template = folder / f"mlflow-{mlflow.__version__}.db"
    if template.is_file():
        return template
    try:
        import sqlalchemy
        from mlflow.store.db.utils import _initialize_tables
    except ImportError:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{template.name}.{os.getpid()}.tmp"
    engine = sqlalchemy.create_engine(f"sqlite:///{tmp}")
    try:
        _initialize_tables(engine)
    except sqlalchemy.exc.SQLAlchemyError:
        tmp.unlink(missing_ok=True)
        return None
    finally:
        engine.dispose()
    os.replace(tmp, template)  # whole or not at all; two makers write the same thing
    return template
