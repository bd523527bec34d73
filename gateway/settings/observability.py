"""``[logging]`` and ``[metrics]`` of gateway.toml: how the gateway's logs look and who may read its metrics."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field

from gateway.settings.base import ConfigError, Strict

#: the least a scrape token may hold: a guessable one would open the gateway's figures to anyone
MIN_TOKEN_LENGTH = 24


class LoggingSection(Strict):
    """The access and application logs ``guichet serve`` writes to standard error."""

    #: "json": one JSON object a line, for a log collector; "text": for a person at a terminal
    format: Literal["json", "text"] = "json"
    #: the least severe records written (the access log is written at INFO whatever this says, unless turned off)
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    #: one line per request: method, route, status, duration, bytes, request id, commune, worker pid
    access_log: bool = True


class MetricsSection(Strict):
    """Prometheus metrics at ``/metrics``, readable only with a bearer token (no token configured: 404)."""

    #: environment variable holding the scrape token (read first)
    token_env: str | None = "GUICHET_METRICS_TOKEN"  # noqa: S105 (the name of a variable, not a token)
    #: or a file holding it, relative to this folder (outside the repository)
    token_file: str | None = None
    #: seconds a scrape reuses the database figures (outbox depth, audit size) of the previous one
    database_cache_seconds: float = Field(default=10.0, ge=0, le=600)


def load_metrics_token(section: MetricsSection, config_dir: Path, gateway_path: Path) -> bytes | None:
    """The scrape token (environment variable first, then file), or None: ``/metrics`` is off."""
    key, token = "metrics.token_env", None
    if section.token_env and os.environ.get(section.token_env):
        token = os.environ[section.token_env].strip()
    elif section.token_file:
        key, path = "metrics.token_file", (config_dir / section.token_file).resolve()
        try:
            token = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            raise ConfigError(gateway_path, key, f"{path} is not a readable text file") from None
    if token is None:
        return None
    if len(token) < MIN_TOKEN_LENGTH:
        raise ConfigError(gateway_path, key, f"the metrics token must be at least {MIN_TOKEN_LENGTH} characters")
    return token.encode()
