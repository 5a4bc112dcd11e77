"""Database URLs: one string names the engine and where the data lives.

``sqlite:///relative.db``, ``sqlite:////abs/path.db``, ``duckdb:///file.duckdb``,
``postgresql://user:pw@host:port/db``, ``mysql://user:pw@host:port/db`` (MariaDB too).
A bare path ending in ``.sqlite``/``.db``/``.sqlite3`` or ``.duckdb`` is accepted as a file URL.
"""

from __future__ import annotations

import os
from collections import namedtuple

from ..errors import DatabaseURLError

ENGINES = ("sqlite", "duckdb", "postgres", "mysql")
_SCHEMES = {
    "sqlite": "sqlite",
    "sqlite3": "sqlite",
    "duckdb": "duckdb",
    "postgresql": "postgres",
    "postgres": "postgres",
    "pg": "postgres",
    "mysql": "mysql",
    "mariadb": "mysql",
}
_FILE_SUFFIXES = {".sqlite": "sqlite", ".sqlite3": "sqlite", ".db": "sqlite", ".duckdb": "duckdb"}


_URL_FIELDS = "engine raw path host port user password database options"


class DatabaseURL(namedtuple("DatabaseURL", _URL_FIELDS, defaults=(None,) * 6 + ((),))):
    """A parsed database address; ``key`` identifies the database for caches and worker affinity.

    Fields: ``engine``, ``raw``, ``path`` (file engines), ``host``, ``port``, ``user``, ``password``,
    ``database``, ``options`` (``(name, value)`` pairs). Immutable and hashable; equality ignores
    ``key``. A named tuple rather than a dataclass: every worker process parses URLs, and
    ``dataclasses`` would add ~12 ms to the start of each."""

    # No __slots__: ``key`` lives in the instance dict, outside the tuple (and outside equality).

    def __new__(cls, *args, **kwargs):
        self = super().__new__(cls, *args, **kwargs)
        # Computed once: resolving a path is far slower than anything else done per statement.
        if self.is_file:
            key = f"{self.engine}:{os.path.realpath(self.path)}"  # type: ignore[arg-type]
        else:
            key = f"{self.engine}://{self.user or ''}@{self.host or ''}:{self.port or ''}/{self.database or ''}"
        self.__dict__["key"] = key
        return self

    key: str

    @classmethod
    def _make(cls, iterable):  # what _replace builds with: through __new__, so that key is set
        return cls(*iterable)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"DatabaseURL is immutable (cannot set {name!r})")

    @property
    def is_file(self) -> bool:
        return self.engine in ("sqlite", "duckdb")

    @property
    def display(self) -> str:
        """The URL with any password masked, for messages and reports."""
        if self.password is None:
            return self.raw
        scheme, rest = self.raw.split("://", 1)
        userinfo, at, hostpart = rest.partition("@")
        user = userinfo.split(":", 1)[0]
        return f"{scheme}://{user}:***{at}{hostpart}"

    def option(self, name: str, default: str | None = None) -> str | None:
        for k, v in self.options:
            if k == name:
                return v
        return default


def parse_url(url: str | DatabaseURL) -> DatabaseURL:
    """Parse a database URL (or a bare .sqlite/.duckdb path) into a :class:`DatabaseURL`."""
    if isinstance(url, DatabaseURL):
        return url
    if not isinstance(url, str) or not url.strip():
        raise DatabaseURLError("empty database URL; expected e.g. sqlite:///example.sqlite")
    url = url.strip()
    if "://" not in url:
        suffix = os.path.splitext(url)[1].lower()
        if suffix in _FILE_SUFFIXES:
            return DatabaseURL(engine=_FILE_SUFFIXES[suffix], raw=url, path=url)
        raise DatabaseURLError(
            f"cannot tell the engine of {url!r}: use a URL such as sqlite:///{url} or duckdb:///{url}"
        )
    scheme = url.split("://", 1)[0].lower().split("+", 1)[0]
    engine = _SCHEMES.get(scheme)
    if engine is None:
        raise DatabaseURLError(
            f"unsupported database scheme {scheme!r} in {url!r}; supported: sqlite, duckdb, postgresql, mysql"
        )
    if engine in ("sqlite", "duckdb"):
        rest = url.split("://", 1)[1]
        if not rest.startswith("/"):
            raise DatabaseURLError(f"{url!r}: a file URL needs three slashes, e.g. {scheme}:///path/to/file")
        path, _, query = rest[1:].partition("?")
        if not path:
            raise DatabaseURLError(f"{url!r} names no file")
        if not query and "%" not in path:
            # The common case, without urllib (~2.5 ms of every worker's start).
            return DatabaseURL(engine=engine, raw=url, path=path)
        from urllib.parse import parse_qs, unquote

        opts = tuple((k, v[-1]) for k, v in parse_qs(query).items())
        return DatabaseURL(engine=engine, raw=url, path=unquote(path), options=opts)
    from urllib.parse import parse_qs, unquote, urlsplit

    parts = urlsplit(url)
    if not parts.hostname:
        raise DatabaseURLError(f"{url!r} names no host, e.g. {scheme}://user@127.0.0.1:5432/dbname")
    database = unquote(parts.path.lstrip("/")) or None
    if not database:
        raise DatabaseURLError(f"{url!r} names no database, e.g. {scheme}://user@host:port/dbname")
    try:
        port = parts.port
    except ValueError as exc:
        raise DatabaseURLError(f"{url!r}: bad port ({exc})") from None
    opts = tuple((k, v[-1]) for k, v in parse_qs(parts.query).items())
    return DatabaseURL(
        engine=engine,
        raw=url,
        host=parts.hostname,
        port=port,
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        database=database,
        options=opts,
    )
