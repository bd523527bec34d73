"""Recorded purposes shown in the reader's language (gateway/audit/purposes.py)."""

from __future__ import annotations

import pytest

from gateway.audit.builders import access_denied
from gateway.audit.events import ANONYMOUS
from gateway.audit.purposes import CORE_PURPOSES, purpose_text
from gateway.identity import federation, local_accounts, staff
from gateway.notify import delivery
from gateway.requests import personal_data, retention
from gateway.services import Localized
from gateway.web import access_log_proofs, audit_log_reading

RECORDED_BY_THE_CORE = (
    federation.CITIZEN_PURPOSE,
    federation.STAFF_PURPOSE,
    staff.PURPOSE,
    local_accounts.PURPOSE,
    delivery.PURPOSE,
    audit_log_reading.PURPOSE,
    access_log_proofs.PURPOSE,
    personal_data.PURPOSE,
    retention.EXPIRED,
    retention.DRAFT_PURPOSE,
)


@pytest.mark.parametrize("recorded", RECORDED_BY_THE_CORE)
def test_every_purpose_the_core_records_has_its_english_words(recorded: str) -> None:
    assert recorded in CORE_PURPOSES and CORE_PURPOSES[recorded].en


def test_a_services_purpose_is_shown_in_the_services_own_words() -> None:
    purpose = Localized("Délivrer la vignette.", "To issue the sticker.")
    assert purpose_text("Délivrer la vignette.", purpose, "en") == "To issue the sticker."


def test_a_refusal_names_the_role_in_english() -> None:
    event = access_denied(ANONYMOUS, role="agent", resource="x", origin="test", attempted="request.read")
    assert purpose_text(event.purpose, None, "en") == "access control: request.read refused; role agent required"


def test_an_unknown_purpose_is_shown_as_recorded() -> None:
    assert purpose_text("motif d'un greffon retiré", None, "en") == "motif d'un greffon retiré"
