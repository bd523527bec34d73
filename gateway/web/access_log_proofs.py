"""A citizen's own proofs: their access-log entries as a bundle they can verify offline, for the page and the API.

The bundle (:mod:`gateway.audit.personal_bundle`) holds the entries about
the signed-in citizen only, proven against the latest checkpoint; anyone
holding the gateway's verifier key checks it with ``guichet audit
verify-bundle`` or the short procedure of ``docs/audit_format.md`` §6, with no
other data. There is no parameter to name another person: the bundle is
always the caller's. Downloading it is recorded, like reading the log.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from gateway.audit.builders import account_event
from gateway.audit.events import Actor
from gateway.audit.keys import verifiers_for
from gateway.audit.log import record
from gateway.audit.personal_bundle import Coverage, coverage, personal_bundle
from gateway.audit.witnessing import witnesses_of
from gateway.identity.access import require_citizen
from gateway.services import Localized
from gateway.web.access_log_reading import subjects_of
from gateway.web.errors import PageError
from gateway.web.lookups import database_of, registry_of, request_origin

NOT_SEALED = Localized(
    "Le journal n'a pas encore été scellé par un point de contrôle signé : les preuves seront disponibles "
    "après le prochain scellement. Réessayez un peu plus tard.",
    "The log has not been sealed by a signed checkpoint yet: proofs will be available after the next seal. "
    "Try again a little later.",
)
PURPOSE = "droit d'accès de la personne concernée (RGPD, article 15) : preuves du journal d'accès"
FILENAME = "mes-acces-preuves.json"


async def access_log_coverage(request: Request) -> Coverage:
    """How many of the signed-in citizen's entries a download would prove now, and how many are not sealed yet."""
    principal = require_citizen(request)
    settings = registry_of(request).settings
    db = database_of(request)

    def load() -> Coverage:
        with db.session(all_communes=True) as session:
            return coverage(session, subjects_of(session, principal, settings.secret_key))

    return await db.run(load)


async def access_log_bundle(request: Request) -> dict[str, Any]:
    """The signed-in citizen's bundle, recorded as read; 409 while no checkpoint exists."""
    principal = require_citizen(request)
    settings = registry_of(request).settings
    keys = [verifier.to_text() for verifier in verifiers_for(settings)]
    witness_keys = [witness.verifier.to_text() for witness in witnesses_of(settings)]
    origin = request_origin(request)
    db = database_of(request)

    def load() -> dict[str, Any] | None:
        with db.session(all_communes=True) as session:
            subjects = subjects_of(session, principal, settings.secret_key)
            actor = principal.actor()
            bundle = personal_bundle(session, subjects, reader=actor.id, verifier_keys=keys, witness_keys=witness_keys)
            if bundle is not None:
                event = account_event("account.read", Actor(actor.id, "citizen"), resource="access-log/proofs",
                                      subject=subjects[0], purpose=PURPOSE, origin=origin)  # fmt: skip
                record(session, event)
            return bundle

    bundle = await db.run(load)
    if bundle is None:
        raise PageError(409, NOT_SEALED)
    return bundle
