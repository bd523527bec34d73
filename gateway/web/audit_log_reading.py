"""The auditor's reading of the audit log over HTTP, for the console's pages and the API alike.

Auditors only. A commune auditor sees their commune's entries; a syndicate
auditor (or administrator) sees all. Every search, view and export is itself
written to the audit log — with the searched person's pseudonym as the data
subject, so they can see that their record was looked at.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request

from gateway.audit.builders import auditor_event
from gateway.audit.entry_proof import Witnessed, entry_bundle, witnessed
from gateway.audit.events import pseudonym
from gateway.audit.keys import verifiers_for
from gateway.audit.log import record
from gateway.audit.publication import recent_checkpoints
from gateway.audit.search import AuditQuery, QueryError, Scope, parse_query, proof_for, search
from gateway.audit.witnessing import witnesses_of
from gateway.identity.access import AccessDenied, require_staff_session
from gateway.identity.principal import Principal
from gateway.models import AuditEntry
from gateway.services import Localized
from gateway.web.access import record_denial, refuse_citizens
from gateway.web.errors import PageError
from gateway.web.lookups import registry_of, request_origin
from gateway.web.numbers import BIGINT_MAX, bounds, integer_in

PURPOSE = "contrôle de la traçabilité des accès aux données personnelles"


async def auditor(request: Request) -> tuple[Principal, Scope]:
    """The auditor (or administrator) asking, and the communes they may read; anyone else is refused and recorded."""
    await refuse_citizens(request, "auditor")
    principal = require_staff_session(request)
    grants = [grant for grant in principal.grants if grant.role in ("auditor", "administrator")]
    if not grants:
        await record_denial(request, principal, role="auditor")
        raise AccessDenied
    if any(grant.commune is None for grant in grants):
        return principal, Scope(None)
    return principal, Scope(frozenset(grant.commune for grant in grants if grant.commune))


def audit_query(params: dict[str, str]) -> AuditQuery:
    """The validated query, or a 400 page / problem document naming the parameter at fault."""
    try:
        return parse_query(params)
    except QueryError as error:
        raise PageError(400, Localized(f"Recherche impossible : {error}", f"Cannot search: {error}")) from None


def _subject(request: Request, query: AuditQuery) -> str | None:
    if not query.citizen:
        return None
    if len(query.citizen) == 32 and "@" not in query.citizen:
        return query.citizen
    return pseudonym(registry_of(request).settings.secret_key, "email", query.citizen)


def _recorded_query(query: AuditQuery, subject: str | None) -> str:
    """The query as it enters the log: the citizen only as a pseudonym, never an address."""
    params = {key: str(value) for key, value in query.model_dump(exclude_none=True).items() if key != "citizen"}
    if subject:
        params["subject"] = subject
    return ("audit-log?" + urlencode(sorted(params.items())))[:200]


async def run_search(
    request: Request, action: str, query: AuditQuery, principal: Principal, scope: Scope
) -> list[AuditEntry]:
    """The entries matching ``query`` within ``scope``, the search itself recorded as ``action``."""
    db = request.app.state.db
    secret = registry_of(request).settings.secret_key
    subject = _subject(request, query)

    def run() -> list[AuditEntry]:
        with db.session(all_communes=True) as session:
            entries = search(session, query, scope, secret)
            actor = principal.actor("auditor")
            event = auditor_event(action, actor, commune=query.commune, resource=_recorded_query(query, subject),
                                  subject=subject, purpose=PURPOSE, origin=request_origin(request))  # fmt: skip
            record(session, event)
            return entries

    try:
        entries: list[AuditEntry] = await db.run(run)
    except PermissionError:
        await record_denial(request, principal, role="auditor", commune=query.commune)
        raise AccessDenied from None
    return entries


NOT_IN_SCOPE = Localized("Aucune entrée à cette position dans votre périmètre.",
                         "No entry at this position within your scope.")  # fmt: skip
NOT_SEALED = Localized(
    "Aucun point de contrôle ne couvre encore cette entrée : sa preuve sera disponible après le prochain scellement.",
    "No checkpoint covers this entry yet: its proof will be available after the next seal.",
)


def _seq(request: Request) -> int:
    seq = integer_in(str(request.path_params["seq"]), 0, BIGINT_MAX)
    if seq is None:  # no entry can be there: a 404, saying which positions exist
        raise PageError(404, bounds("seq", 0, BIGINT_MAX))
    return seq


async def load_entry(request: Request, principal: Principal, scope: Scope) -> tuple[AuditEntry, Any]:
    """The entry at the path's ``seq`` and its inclusion proof, the view recorded; a 404 outside ``scope``."""
    seq = _seq(request)
    db = request.app.state.db

    def load() -> tuple[AuditEntry | None, Any]:
        with db.session(all_communes=True) as session:
            entry = session.get(AuditEntry, seq)
            if entry is None or not scope.allows(entry.commune):
                return None, None
            actor = principal.actor("auditor")
            record(session, auditor_event("audit.view", actor, commune=entry.commune, resource=f"audit-entry/{seq}",
                                          subject=entry.subject, purpose=PURPOSE,
                                          origin=request_origin(request)))  # fmt: skip
            return entry, proof_for(session, entry)

    entry, proof = await db.run(load)
    if entry is None:
        raise PageError(404, NOT_IN_SCOPE)
    return entry, proof


async def load_entry_bundle(request: Request, principal: Principal, scope: Scope) -> dict[str, Any]:
    """The path's entry alone as an offline-verifiable bundle, the download recorded as a view; 404 / 409 else."""
    seq = _seq(request)
    settings = registry_of(request).settings
    keys = [verifier.to_text() for verifier in verifiers_for(settings)]
    witness_keys = [witness.verifier.to_text() for witness in witnesses_of(settings)]
    db = request.app.state.db

    def load() -> tuple[AuditEntry | None, dict[str, Any] | None]:
        with db.session(all_communes=True) as session:
            entry = session.get(AuditEntry, seq)
            if entry is None or not scope.allows(entry.commune):
                return None, None
            bundle = entry_bundle(session, entry, verifier_keys=keys, witness_keys=witness_keys)
            if bundle is not None:
                actor = principal.actor("auditor")
                record(session, auditor_event("audit.view", actor, commune=entry.commune,
                                              resource=f"audit-entry/{seq}/proof", subject=entry.subject,
                                              purpose=PURPOSE, origin=request_origin(request)))  # fmt: skip
            return entry, bundle

    found: tuple[AuditEntry | None, dict[str, Any] | None] = await db.run(load)
    entry, bundle = found
    if entry is None:
        raise PageError(404, NOT_IN_SCOPE)
    if bundle is None:
        raise PageError(409, NOT_SEALED)
    return bundle


async def proof_checkpoint(request: Request, size: int) -> Witnessed | None:
    """The witnessed checkpoint of ``size`` a proof rests on (a size, a time, witnesses' names: nothing to record)."""
    db = request.app.state.db

    def load() -> Witnessed | None:
        with db.session(all_communes=True) as session:
            return witnessed(session, size)

    result: Witnessed | None = await db.run(load)
    return result


async def witnessed_checkpoints(request: Request) -> list[tuple[Any, list[Any]]]:
    """The newest checkpoints and which witnesses cosigned each (sizes and hashes only: nothing to record)."""
    db = request.app.state.db

    def load() -> list[tuple[Any, list[Any]]]:
        with db.session(all_communes=True) as session:
            return [(checkpoint, rows) for checkpoint, rows in recent_checkpoints(session)]

    result: list[tuple[Any, list[Any]]] = await db.run(load)
    return result
