"""Family filings: one request per member (siblings, say), filed together and linked, each decided on its own.

A service declaring a :class:`~gateway.services.MemberBlock` marks some form
fields ``per_member``. A family filing sends the shared answers once and each
member's own answers; every member becomes a request of its own (the shared
answers copied into it), checked and stored by the one filing pipeline
(:mod:`gateway.requests.filing`): its reference, its audit entries, its
receipt, its workflow. The requests hold one ``family_id``.

All or nothing: the members are checked first, and one error anywhere
files none (every error returned, each naming its member); then all are
stored in one member of the process's write batch (one savepoint), so a
limit or a plugin's failure while storing one rolls back them all.

Idempotent: member 1 is filed under the submission key sent, member ``n``
under a key derived from it (:func:`member_key`); a retry meets member 1's
key and is answered with the whole family, or refused when what was sent
differs (another count of members, other answers).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from gateway.db import Database
from gateway.group_commit import GroupCommit
from gateway.models import ServiceRequest
from gateway.models.requests import new_public_id
from gateway.registry import Registry
from gateway.requests.caller import Caller
from gateway.requests.filing import Filed, Prepared, Submission, file_together, prepare, store
from gateway.requests.finders import family_of
from gateway.requests.posted import PostedForm
from gateway.requests.rules import ServiceRules
from gateway.requests.store import RequestStore
from gateway.requests.submission_keys import SubmissionKeyConflict, same_submission
from gateway.services import FieldError, FormField, Localized


def too_many(limit: int) -> Localized:
    return Localized(f"{limit} membres au plus par dépôt.", f"At most {limit} members per filing.")


@dataclass(frozen=True)
class MemberError:
    """An error of a family filing: on a member's own field (``member`` counts from 1), or shared (None)."""

    member: int | None
    error: FieldError


@dataclass(frozen=True)
class FiledFamily:
    """The outcome of a family filing: its requests in the members' order, or the errors that stopped them all."""

    requests: Sequence[ServiceRequest] = ()
    errors: Sequence[MemberError] = ()
    replayed: bool = False
    #: True when every receipt was queued, False when one was withheld, None when there was no address
    receipt_mailed: bool | None = None

    @property
    def family_id(self) -> str | None:
        return self.requests[0].family_id if self.requests else None


def is_family_service(rules: ServiceRules) -> bool:
    """Whether this service's form repeats a member block (its definition declares one and marks fields)."""
    return rules.definition.members is not None and any(form_field.per_member for form_field in rules.form)


def member_fields(form: Sequence[FormField]) -> tuple[FormField, ...]:
    return tuple(form_field for form_field in form if form_field.per_member)


def shared_fields(form: Sequence[FormField]) -> tuple[FormField, ...]:
    return tuple(form_field for form_field in form if not form_field.per_member)


def member_key(key: str, index: int) -> str:
    """The submission key member ``index`` (from 1) is filed under: the key sent for the first, derived for others."""
    if index == 1:
        return key
    return "family-" + hashlib.sha256(f"{key}\n{index}".encode()).hexdigest()[:48]


def member_answers(
    form: Sequence[FormField], shared: Mapping[str, object], member: Mapping[str, object]
) -> Mapping[str, object]:
    """One member's whole form: the shared answers, with that member's own answers for the per-member fields.

    A posted form's address parts (``<field>.<part>``) follow their field.
    """
    own = {form_field.name for form_field in member_fields(form)}

    def owned(name: str) -> bool:
        return name.split(".", 1)[0] in own

    if isinstance(shared, PostedForm):
        posted = PostedForm({name: values for name, values in shared.items() if not owned(name)})
        for name, values in member.items():
            if owned(name) and isinstance(values, list):
                posted[name] = [str(value) for value in values]
        return posted
    answers = {name: value for name, value in shared.items() if not owned(name)}
    answers.update({name: value for name, value in member.items() if owned(name)})
    return answers


def prepare_family(
    registry: Registry,
    rules: ServiceRules,
    caller: Caller,
    shared: Mapping[str, object],
    members: Sequence[Mapping[str, object]],
    key: str,
) -> tuple[list[Prepared], list[MemberError]]:
    """Check every member (nothing written): the prepared filings, linked by a new family id, and every error."""
    own = {form_field.name for form_field in member_fields(rules.form)}
    prepared: list[Prepared] = []
    errors: list[MemberError] = []
    for index, member in enumerate(members, 1):
        answers = member_answers(rules.form, shared, member)
        outcome = prepare(registry, rules, caller, Submission(answers, member_key(key, index)))
        if isinstance(outcome, Prepared):
            prepared.append(outcome)
            continue
        for error in outcome.errors:
            found = MemberError(index if error.field in own else None, error)
            if found not in errors:  # a shared field's error is said once, not once per member
                errors.append(found)
    if errors:
        return [], errors
    family_id = new_public_id()
    for filing in prepared:
        filing.row.family_id = family_id
    return prepared, []


def store_family(session: Session, registry: Registry, prepared: Sequence[Prepared]) -> FiledFamily:
    """Store every member's request in ``session``'s transaction, or raise with none of them kept."""
    filed = [store(session, registry, filing) for filing in prepared]
    mailed = [one.receipt_mailed for one in filed if one.receipt_mailed is not None]
    requests = [one.request for one in filed if one.request is not None]
    return FiledFamily(requests=requests, receipt_mailed=all(mailed) if mailed else None)


async def file_family_together(
    db: Database,
    writer: GroupCommit,
    registry: Registry,
    rules: ServiceRules,
    caller: Caller,
    shared: Mapping[str, object],
    members: Sequence[Mapping[str, object]],
    key: str,
) -> FiledFamily:
    """File the members' requests in one go, in the process's next batch; one member alone is an ordinary filing."""
    if len(members) == 1:
        answers = member_answers(rules.form, shared, members[0])
        return _as_family(await file_together(db, writer, registry, rules, caller, Submission(answers, key)))
    filings, errors = await db.run(prepare_family, registry, rules, caller, shared, members, key)
    if errors:
        return FiledFamily(errors=errors)
    try:
        return await writer.write(
            rules.commune.slug, functools.partial(store_family, registry=registry, prepared=filings)
        )
    except IntegrityError:
        replayed = await db.run(_replay, db, rules, filings)
        if replayed is None:
            raise
        return replayed


def _as_family(filed: Filed) -> FiledFamily:
    return FiledFamily(
        requests=[filed.request] if filed.request is not None else [],
        errors=[MemberError(None, error) for error in filed.errors],
        replayed=filed.replayed,
        receipt_mailed=filed.receipt_mailed,
    )


def _replay(db: Database, rules: ServiceRules, filings: Sequence[Prepared]) -> FiledFamily | None:
    """The family this submission key already filed (None: the key is new); refused when it was another filing."""
    with db.read_session(commune=rules.commune.slug) as session:
        store = RequestStore(session)
        existing = [store.by_submission_key(filing.row.submission_key) for filing in filings]
        if existing[0] is None:
            return None
        family = existing[0].family_id
        if family is None or any(row is None or row.family_id != family for row in existing):
            raise SubmissionKeyConflict
        if len(family_of(session, existing[0])) != len(filings) - 1:
            raise SubmissionKeyConflict  # the first filing had more members than this one
    rows = [
        same_submission(row, rules.key, answers=filing.row.submission_fingerprint)
        for row, filing in zip(existing, filings, strict=True)
        if row is not None
    ]
    return FiledFamily(requests=rows, replayed=True)
