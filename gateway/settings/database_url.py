"""The database URL: configured, or SQLite in the data folder; a scheme Guichet does not run on is refused by name."""

from __future__ import annotations

from pathlib import Path

from gateway.settings.base import ConfigError

#: the database URL schemes Guichet runs on (``postgres://`` and ``postgresql://`` mean psycopg 3)
DATABASE_SCHEMES = frozenset({"sqlite", "sqlite+pysqlite", "postgresql", "postgres", "postgresql+psycopg"})


def database_url(url: str | None, data_dir: Path, where: tuple[str, str | None]) -> str:
    """The URL to connect to; ``where`` (file or variable, key) names its origin in a :class:`ConfigError`.

    The fault shows the scheme only, never the rest of the URL (it may hold a password).
    """
    if not url:
        return f"sqlite:///{data_dir / 'guichet.db'}"
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme not in DATABASE_SCHEMES:
        fault = f"unknown database URL scheme {scheme!r}" if scheme else "the database URL has no scheme"
        raise ConfigError(where[0], where[1], f"{fault}: use sqlite:///PATH or postgresql://USER@HOST/DATABASE")
    if scheme in {"postgresql", "postgres"}:
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url
