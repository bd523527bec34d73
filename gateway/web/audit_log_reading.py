"""The auditor's reading of the audit log over HTTP, for the console's pages and the API alike.

Auditors only. A commune auditor sees their commune's entries; a syndicate
auditor (or administrator) sees all. Every search, view and export is itself
written to the audit log — with the searched person's pseudonym as the data
subject, so they can see that their record was looked at.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request

from gateway.audit.builders import auditor_event
from gateway.audit.entry_proof import Witnessed, entry_bundle, witnessed
from gateway.audit.keys import verifiers_for
from gateway.audit.log import record
from gateway.audit.publication import recent_checkpoints
from gateway.audit.search import AuditQuery, QueryError, Scope, parse_query, proof_for, search
from gateway.audit.search_purposes import AUDIT_PURPOSES, ROUTINE
from gateway.audit.witnessing import witnesses_of
from gateway.identity.access import AccessDenied, require_staff_session
from gateway.identity.person_lookup import Resolution, actor_id_of, resolve_person
from gateway.identity.principal import Principal
from gateway.models import AuditEntry
from gateway.services import Localized
from gateway.web.access import record_denial, refuse_citizens
from gateway.web.errors import PageError
from gateway.web.lookups import registry_of, request_origin
from gateway.web.numbers import BIGINT_MAX, bounds, integer_in

PURPOSE = AUDIT_PURPOSES[ROUTINE].fr


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


def _recorded_query(query: AuditQuery, resolution: Resolution | None) -> str:
    """The query as it enters the log: the person only by the kind of identifier typed, never the identifier."""
    params = {key: str(value) for key, value in query.model_dump(exclude_none=True).items() if key != "citizen"}
    if resolution is not None:
        params["person"] = resolution.identifier_kind
    return ("audit-log?" + urlencode(sorted(params.items())))[:200]


def _recorded_commune(query: AuditQuery, scope: Scope) -> str | None:
    """Under which commune an auditor's reading is recorded: the one searched, else a commune auditor's own."""
    if query.commune is not None:
        return query.commune
    return next(iter(scope.communes)) if scope.communes is not None and len(scope.communes) == 1 else None


@dataclass(frozen=True)
class Found:
    """What a search found: the entries and, for a person, the pseudonyms the identifier resolved to."""

    entries: list[AuditEntry]
    resolution: Resolution | None = None


async def run_search(request: Request, action: str, query: AuditQuery, principal: Principal, scope: Scope) -> Found:
    """The entries matching ``query`` within ``scope``, the search itself recorded as ``action``.

    A person (``citizen``) is first resolved to all their pseudonyms: one
    ``audit.resolve`` entry per pseudonym, with the purpose the auditor
    stated, so each of the person's records says they were looked up, why
    and by whom; then the search, recorded under the first of them.
    """
    db = request.app.state.db
    registry = registry_of(request)
    actor = principal.actor("auditor")
    commune, origin, purpose = _recorded_commune(query, scope), request_origin(request), query.recorded_purpose
    fields = sorted({provided.definition.subject_field for provided in registry.services.values()
                     if provided.definition.subject_field})  # fmt: skip

    def run() -> Found:
        with db.session(all_communes=True) as session:
            if query.commune is not None and not scope.allows(query.commune):
                raise PermissionError(query.commune)
            resolution = None
            if query.citizen:
                resolution = resolve_person(session, query.citizen, registry.settings.secret_key,
                                            address_fields=fields)  # fmt: skip
                for found in resolution.pseudonyms:
                    record(session, auditor_event("audit.resolve", actor, commune=commune,
                                                  resource=f"audit-person/{resolution.identifier_kind}/{found.kind}",
                                                  subject=found.value, purpose=purpose, origin=origin))  # fmt: skip
            subjects = resolution.values if resolution is not None else None
            named = query.model_copy(update={"agent": actor_id_of(session, query.agent)}) if query.agent else query
            entries = search(session, named, scope, subjects)
            event = auditor_event(action, actor, commune=commune, resource=_recorded_query(query, resolution),
                                  subject=subjects[0] if subjects else None, purpose=purpose,
                                  origin=origin)  # fmt: skip
            record(session, event)
            return Found(entries, resolution)

    try:
        result: Found = await db.run(run)
    except PermissionError:
        await record_denial(request, principal, role="auditor", commune=query.commune)
        raise AccessDenied from None
    return result


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


def person_kinds(found: Found, scope: Scope) -> dict[str, str]:
    """What each of the person's pseudonyms stands for; a commune auditor learns only those their entries show.

    Whether someone has an account, or an address of theirs was used
    elsewhere, is itself personal data: a commune's auditor sees only the
    pseudonyms of entries in their commune, the syndicate's sees them all.
    """
    if found.resolution is None:
        return {}
    shown = {entry.subject for entry in found.entries}
    pseudonyms = found.resolution.pseudonyms
    return {item.value: item.kind for item in pseudonyms if scope.communes is None or item.value in shown}
