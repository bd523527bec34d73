"""Values a plugin derives and records on a request (API 1.2): declared names only, plain values only."""

from __future__ import annotations

import pytest

from gateway import Localized, ServiceDefinition
from gateway.testing import request_handle


def test_a_declared_value_is_kept_with_the_answers() -> None:
    handle = request_handle("ecole", "corbas", {"street": "rue A"}, derived=("school", "level"))
    handle.record_value("school", "ecole-a")
    handle.record_value("level", "cp")
    assert dict(handle.data) == {"street": "rue A", "school": "ecole-a", "level": "cp"}


@pytest.mark.parametrize("name", ["street", "other", ""])
def test_a_name_the_service_does_not_declare_is_refused(name: str) -> None:
    handle = request_handle("ecole", "corbas", {"street": "rue A"}, derived=("school",))
    with pytest.raises(ValueError, match="not a derived value"):
        handle.record_value(name, "x")
    assert dict(handle.data) == {"street": "rue A"}


@pytest.mark.parametrize("value", ["x" * 201, ["a"], {"a": 1}, 1.5])
def test_only_short_text_numbers_booleans_or_none_are_kept(value: object) -> None:
    handle = request_handle("ecole", "corbas", {}, derived=("school",))
    with pytest.raises(ValueError):
        handle.record_value("school", value)  # type: ignore[arg-type]


@pytest.mark.parametrize("derived", [("School",), ("school", "school"), ("a b",)])
def test_a_service_declares_distinct_lower_case_names(derived: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="derived values"):
        ServiceDefinition(key="ecole", title=Localized("École"), description=Localized("d"), reference_prefix="EC",
                          purpose=Localized("p"), derived=derived)  # fmt: skip
