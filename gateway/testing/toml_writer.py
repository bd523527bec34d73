"""A small TOML writer, so a test writes its configuration as an operator would (tomllib only reads)."""

from __future__ import annotations

import re
from typing import Any


def dumps_toml(data: dict[str, Any]) -> str:
    """A small TOML writer for the value kinds configuration files use."""
    lines: list[str] = []
    tables: list[tuple[str, dict[str, Any]]] = []
    for key, value in data.items():
        if isinstance(value, dict):
            tables.append((key, value))
        else:
            lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
    for name, table in tables:
        _write_table(lines, name, table)
    return "\n".join(lines) + "\n"


def _write_table(lines: list[str], name: str, table: dict[str, Any]) -> None:
    lines.append(f"\n[{name}]")
    nested = []
    for key, value in table.items():
        if isinstance(value, dict):
            nested.append((f"{name}.{_toml_key(key)}", value))
        else:
            lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
    for sub_name, sub_table in nested:
        _write_table(lines, sub_name, sub_table)


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_value(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, dict):  # an inline table, e.g. in an array of tables
        return "{" + ", ".join(f"{_toml_key(key)} = {_toml_value(item)}" for key, item in value.items()) + "}"
    raise TypeError(f"cannot write {value!r} as TOML")
