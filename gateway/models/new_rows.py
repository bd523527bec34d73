"""New table rows made without SQLModel's per-attribute constructor, for the rows every filing makes.

``ServiceRequest(**values)`` sets each of its ~30 fields through both
SQLAlchemy's instrumented ``__setattr__`` and pydantic's (and asks pydantic
for each default): about 0.35 ms for one row, a tenth of a filing's CPU when
a filing makes three. Table models are not validated on construction anyway,
so :func:`new_row` gives the same object the way SQLAlchemy gives a row it
loads: the instance and its state made by the mapper, the values (given, or
the field's default) put in its dictionary at once. The row is then pending
like any other once added to a session; its INSERT takes the values from the
dictionary, and later changes go through the instrumented attributes as usual.

``tests/test_new_rows.py`` holds it to the constructor: same values, same
stored row, same errors for a misspelt or missing field.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic_core import PydanticUndefined
from sqlalchemy.orm import class_mapper
from sqlmodel import SQLModel

Row = TypeVar("Row", bound=SQLModel)
#: default values shared by every row without a copy (anything else is made anew for each row)
_IMMUTABLE = (type(None), bool, int, float, str, bytes)


@dataclass(frozen=True)
class _Plan:
    """What a model's rows need: the field names, the required ones, and how to make each default."""

    names: frozenset[str]
    required: frozenset[str]
    defaults: tuple[tuple[str, Callable[[], Any]], ...]


@functools.cache
def _plan(model: type[SQLModel]) -> _Plan:
    class_mapper(model)  # the mapper is configured, so its instance state can be made
    defaults: list[tuple[str, Callable[[], Any]]] = []
    required = set()
    for name, field in model.model_fields.items():
        if field.is_required():
            required.add(name)
        elif field.default_factory is not None:
            defaults.append((name, field.default_factory))  # type: ignore[arg-type]
        elif field.default is not PydanticUndefined and isinstance(field.default, _IMMUTABLE):
            defaults.append((name, functools.partial(_same, field.default)))
        else:  # a mutable default: pydantic's own copy of it, for each row
            defaults.append((name, functools.partial(field.get_default, call_default_factory=True)))
    return _Plan(frozenset(model.model_fields), frozenset(required), tuple(defaults))


def _same(value: object) -> object:
    return value


def copy_row(row: Row) -> Row:
    """A new transient row holding ``row``'s values (a mapping or list value copied, not shared), id included."""
    values = {name: getattr(row, name) for name in _plan(type(row)).names}
    for name, value in values.items():
        if isinstance(value, dict | list):
            values[name] = type(value)(value)
    return new_row(type(row), **values)


def new_row(model: type[Row], **values: Any) -> Row:
    """A new (transient) row of ``model``, as ``model(**values)`` makes it, at a fraction of its cost.

    Raises ``TypeError`` for a name that is not one of the model's fields and
    for a required field left out (the constructor would fail at the INSERT).
    """
    plan = _plan(model)
    unknown = values.keys() - plan.names
    if unknown:
        raise TypeError(f"{model.__name__} has no field {', '.join(sorted(unknown))}")
    missing = plan.required - values.keys()
    if missing:
        raise TypeError(f"{model.__name__} needs {', '.join(sorted(missing))}")
    given = set(values)
    for name, default in plan.defaults:
        if name not in values:
            values[name] = default()
    row: Row = model._sa_class_manager.new_instance()  # type: ignore[attr-defined]
    row.__dict__.update(values)
    object.__setattr__(row, "__pydantic_fields_set__", given)
    object.__setattr__(row, "__pydantic_extra__", None)
    object.__setattr__(row, "__pydantic_private__", None)
    return row
