"""One rule for typed text: form fields, and the comments, notes and messages of the service layer."""

from __future__ import annotations

import pytest

from gateway.requests.errors import InvalidInput
from gateway.requests.forms import CONTROL_CHARS, NOT_TEXT, check_form
from gateway.requests.posted import PostedForm
from gateway.requests.text import checked_text
from gateway.services import FormField, Localized

LABEL = Localized("Commentaire", "Comment")
LINE = FormField("name", Localized("Nom", "Name"), max_length=20)
LINES = FormField("message", Localized("Message", "Message"), kind="textarea", max_length=20)


def test_a_carriage_return_in_a_one_line_field_is_refused() -> None:
    """It used to pass (only ``\\n`` was looked for): a one-line answer holds no line break of any kind."""
    _cleaned, errors = check_form([LINE], {"name": "Camille\rExemple"})
    assert [(error.field, error.message) for error in errors] == [("name", CONTROL_CHARS)]


def test_a_lone_carriage_return_in_several_lines_is_refused_as_in_a_comment() -> None:
    _cleaned, errors = check_form([LINES], {"message": "une\rdeux"})
    assert [error.message for error in errors] == [CONTROL_CHARS]
    with pytest.raises(InvalidInput) as refused:
        checked_text("une\rdeux", required=False, label=LABEL)
    assert refused.value.reason == CONTROL_CHARS


def test_windows_line_ends_and_tabs_are_kept_as_text_in_both() -> None:
    cleaned, errors = check_form([LINES], {"message": "une\r\n\tdeux"})
    assert (cleaned, errors) == ({"message": "une\n\tdeux"}, [])
    assert checked_text(" une\r\n\tdeux ", required=True, label=LABEL) == "une\n\tdeux"


def test_a_comment_that_is_not_text_is_refused_not_taken_for_empty() -> None:
    """It used to be read as an empty comment; a form field says "must be text", so does a comment now."""
    with pytest.raises(InvalidInput) as refused:
        checked_text(["une", "liste"], required=False, label=LABEL)
    assert refused.value.reason == NOT_TEXT
    assert checked_text(None, required=False, label=LABEL) == ""


def test_a_posted_form_leaves_out_files_and_the_csrf_token_and_keeps_repeated_names() -> None:
    items = [("name", "Camille"), ("csrftoken", "t"), ("file", object()), ("days", "lundi"), ("days", "jeudi")]
    assert PostedForm.from_items(items) == {"name": ["Camille"], "days": ["lundi", "jeudi"]}
