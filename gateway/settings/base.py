"""What every part of the configuration shares: the error that names file and key, the strict model, loopback."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, ValidationError


class ConfigError(Exception):
    """A configuration file is wrong; the message says where and why."""

    def __init__(self, file: Path | str, key: str | None, fault: str) -> None:
        self.file = str(file)
        self.key = key
        self.fault = fault
        where = f"{self.file}: {key}: " if key else f"{self.file}: "
        super().__init__(where + fault)


class Strict(BaseModel):
    """A section of a configuration file: unknown keys refused, values frozen, text stripped."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def absolute_http_url(value: str) -> str:
    """An absolute http(s) address (the gateway's own, a witness's), without its trailing slash."""
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError("must be an absolute http:// or https:// address")
    return value.rstrip("/")


def is_loopback(url: str) -> bool:
    """Whether ``url`` names this machine (localhost or a loopback address)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def config_error(error: ValidationError, path: Path, prefix: tuple[str, ...] = ()) -> ConfigError:
    """Turn pydantic's first complaint into a :class:`ConfigError` naming the key."""
    first = error.errors()[0]
    key = ".".join(str(part) for part in (*prefix, *first["loc"])) or None
    fault = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
    return ConfigError(path, key, fault)
