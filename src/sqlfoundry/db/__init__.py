"""Connect and execute: connectors for SQLite (the embedded default), DuckDB, PostgreSQL and MySQL,
schema introspection, and the one read-only, bounded, parallel, cached Executor every stage uses."""

from __future__ import annotations

import importlib

# Lazy exports: worker processes start with ``python -m sqlfoundry.db.worker`` and import only what
# running statements needs.
_EXPORTS = {
    "Executor": "executor",
    "Query": "executor",
    "ExecutionOutcome": "outcome",
    "Limits": "outcome",
    "OutcomeStatus": "outcome",
    "DatabaseURL": "url",
    "parse_url": "url",
}


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(name)


__all__ = sorted(_EXPORTS)
