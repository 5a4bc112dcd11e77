"""Typed errors shared by every stage; the CLI turns each into one clear line and an exit code."""

from __future__ import annotations


class SQLFoundryError(Exception):
    """Base class: the message says what is wrong and how to fix it."""

    exit_code = 2


class DatabaseURLError(SQLFoundryError):
    """A database URL that names no supported engine or no usable location."""


class DatabaseUnavailableError(SQLFoundryError):
    """The database cannot be opened (missing file, server down, bad credentials)."""


class SchemaFormatError(SQLFoundryError):
    """A schema file (e.g. Spider's tables.json) that does not have the expected shape."""


class InputFormatError(SQLFoundryError):
    """An input file (gold, predictions, records) that cannot be read as the format it claims."""
