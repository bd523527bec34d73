"""The parsing helpers behind the hostile-input guard: integers, form bodies, stored file names."""

from __future__ import annotations

import pytest

from gateway.requests.attachments import JPEG, PDF, PNG, shown_filename
from gateway.web.errors import PageError
from gateway.web.form_bodies import NOT_UTF8, form_kind, multipart_problem, urlencoded_problem
from gateway.web.numbers import INTEGER_MAX, integer_in, integer_parameter
from tests import hostile_corpus as corpus


@pytest.mark.parametrize("text", [*corpus.UNICODE_DIGITS, *corpus.HUGE_INTEGERS, "-1", "+1", " 1", "1.5", "", "0x10"])
def test_only_ascii_digits_within_bounds_are_integers(text: str) -> None:
    assert integer_in(text, 1, INTEGER_MAX) is None


def test_integers_within_bounds_are_read() -> None:
    assert integer_in("42", 1, 100) == 42
    assert integer_in("0007", 1, 100) == 7
    assert integer_in("2147483647", 1, INTEGER_MAX) == INTEGER_MAX


def test_a_refused_integer_names_the_parameter_and_its_bounds() -> None:
    with pytest.raises(PageError) as refused:
        integer_parameter("¹", "page", 1, 99999)
    assert refused.value.status_code == 400
    assert (
        refused.value.text is not None and refused.value.text("en") == "“page”: an integer from 1 to 99999 is expected."
    )


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (b"multipart/form-data; boundary=abc", ("multipart/form-data", "abc")),
        (b'Multipart/Form-Data;boundary="abc"', ("multipart/form-data", "abc")),
        (b"multipart/form-data", ("multipart/form-data", None)),
        (b"multipart/form-data; boundary=" + b"b" * 71, ("multipart/form-data", None)),
        (b"application/x-www-form-urlencoded; charset=utf-8", ("application/x-www-form-urlencoded", None)),
        (b"application/json", None),
    ],
)
def test_form_kind_reads_the_boundary_as_the_parsers_do(header: bytes, expected: object) -> None:
    assert form_kind(header) == expected


def test_form_text_must_be_utf8() -> None:
    assert urlencoded_problem(b"message=%C3%A9t%C3%A9") is None
    assert urlencoded_problem(b"message=%E9t%E9") is NOT_UTF8
    good = corpus.multipart(corpus.field(b"message", "été".encode()), corpus.file_part(b"doc", b"a.pdf", b"\xff"))
    assert multipart_problem(good, corpus.BOUNDARY) is None
    assert multipart_problem(corpus.multipart(corpus.field(b"message", b"\xe9")), corpus.BOUNDARY) is NOT_UTF8


@pytest.mark.parametrize(
    ("name", "content_type", "shown"),
    [
        ("x.html", PNG, "x.png"),
        ("scan.PDF", PDF, "scan.PDF"),
        ("photo.jpeg", JPEG, "photo.jpeg"),
        ("photo", JPEG, "photo.jpg"),
        ("facture.pdf.exe", PDF, "facture.pdf.pdf"),
        ("", PDF, "document.pdf"),
        ("a" * 300 + ".svg", PNG, "a" * 196 + ".png"),
    ],
)
def test_a_stored_name_takes_the_extension_of_the_content(name: str, content_type: str, shown: str) -> None:
    assert shown_filename(name, content_type) == shown
