"""Connector registry: one module per engine, chosen by the URL's scheme."""

from __future__ import annotations

import importlib

from ..url import DatabaseURL, parse_url
from .base import Connector

_MODULES = {
    "sqlite": ("sqlite", "SQLiteConnector"),
    "duckdb": ("duckdb", "DuckDBConnector"),
    "postgres": ("postgres", "PostgresConnector"),
    "mysql": ("mysql", "MySQLConnector"),
}


def connector_for(url: str | DatabaseURL) -> Connector:
    """A (not yet opened) connector for ``url``."""
    parsed = parse_url(url)
    module, cls = _MODULES[parsed.engine]
    return getattr(importlib.import_module(f"{__name__}.{module}"), cls)(parsed)


__all__ = ["Connector", "connector_for"]
