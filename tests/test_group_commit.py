"""Group commit: filings that arrive together share one transaction, and each keeps its own outcome.

The writer is held by a batch that waits (:func:`hold`), so what is submitted
meanwhile forms the next batch, all of it: the tests know which members share
a transaction without timing anything.
"""

from __future__ import annotations

import asyncio
import functools
import secrets
import threading
from collections.abc import Iterator
from concurrent.futures import Future

import pytest
from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from gateway.audit.events import ANONYMOUS
from gateway.audit.log import AuditUnavailable
from gateway.group_commit import GroupCommit, Work
from gateway.models import AuditHead, OutboxMessage, ServiceRequest
from gateway.models.audit import AuditEntry
from gateway.requests.backoffice.queries import BackOfficeQueries
from gateway.requests.caller import Caller
from gateway.requests.errors import ServiceUnavailable, TooManyFilings
from gateway.requests.filing import Filed, Prepared, Submission, file_together, prepare, store
from gateway.requests.notices import envelope_for
from gateway.testing import ConfigFolder
from tests.lifecycle_desk import GOOD_ANSWERS, Desk, enable
from tests.plugins.lifecycle_service import UNFILEABLE_PLATE

WAIT = 30  # seconds: a bound on a hang, never a measure


@pytest.fixture
def desk(guichet_config: ConfigFolder, guichet_database_url: str) -> Iterator[Desk]:
    enable(guichet_config)
    guichet_config.set_gateway(filing_limits={"anonymous_per_origin": 2})
    opened = Desk(guichet_config, guichet_database_url)
    yield opened
    opened.close()


@pytest.fixture
def writer(desk: Desk) -> Iterator[GroupCommit]:
    made = GroupCommit(desk.db)
    yield made
    made.close()


def hold(writer: GroupCommit) -> threading.Event:
    """Occupy the writer with a batch that waits until the returned event is set."""
    started, release = threading.Event(), threading.Event()

    def wait(_session: Session) -> None:
        started.set()
        release.wait(WAIT)

    writer.submit(None, wait)
    assert started.wait(WAIT)
    return release


def anonymous(origin: str = "api 192.0.2.7") -> Caller:
    return Caller(actor=ANONYMOUS, origin=origin)


def prepared(
    desk: Desk, caller: Caller, commune: str = "venissieux", key: str | None = None, **values: str
) -> Prepared:
    outcome = prepare(desk.registry, desk.rules("vignette", commune), caller,
                      Submission({**GOOD_ANSWERS, **values}, key or secrets.token_urlsafe(12)))  # fmt: skip
    assert isinstance(outcome, Prepared), outcome
    return outcome


def filing(
    desk: Desk, writer: GroupCommit, caller: Caller, commune: str = "venissieux", **values: str
) -> Future[Filed]:
    work: Work[Filed] = functools.partial(
        store, registry=desk.registry, prepared=prepared(desk, caller, commune, **values)
    )
    return writer.submit(commune, work)


def outcome_of(future: Future[Filed]) -> Filed | Exception:
    error = future.exception(WAIT)
    return error if isinstance(error, Exception) else future.result()


def stored(desk: Desk) -> list[ServiceRequest]:
    with desk.db.read_session(all_communes=True) as session:
        return list(session.exec(select(ServiceRequest).order_by(col(ServiceRequest.id))).all())


def audited(desk: Desk) -> list[AuditEntry]:
    with desk.db.read_session() as session:
        return list(session.exec(select(AuditEntry).order_by(col(AuditEntry.seq))).all())


def test_a_member_whose_plugin_fails_is_rolled_back_alone_with_its_audit_events(
    desk: Desk, writer: GroupCommit
) -> None:
    owner = desk.citizen()
    release = hold(writer)
    first = filing(desk, writer, owner, plate="AB-111-CD")
    broken = filing(desk, writer, owner, plate=f"{UNFILEABLE_PLATE}-222-CD")
    last = filing(desk, writer, owner, plate="AB-333-CD")
    release.set()
    outcomes = [outcome_of(future) for future in (first, broken, last)]
    assert isinstance(outcomes[1], ServiceUnavailable)
    kept = [outcome.request for outcome in (outcomes[0], outcomes[2]) if isinstance(outcome, Filed)]
    assert [row.reference for row in stored(desk)] == [row.reference for row in kept if row is not None]
    assert [entry.resource for entry in audited(desk)] == [f"request/{row.reference}" for row in kept if row]
    assert writer.stats.largest == 3 and writer.stats.failed_members == 1


def test_a_member_rolled_back_leaves_no_gap_in_the_reference_numbers(desk: Desk, writer: GroupCommit) -> None:
    owner = desk.citizen()
    release = hold(writer)
    futures = [filing(desk, writer, owner, plate=plate) for plate in ("AB-1", f"{UNFILEABLE_PLATE}-2", "AB-3")]
    release.set()
    assert [type(outcome_of(future)) for future in futures] == [Filed, ServiceUnavailable, Filed]
    assert isinstance(next_one := outcome_of(filing(desk, writer, owner)), Filed)  # a batch of its own
    numbers = [int((row.reference or "").rsplit("-", 1)[1]) for row in stored(desk)]
    assert numbers == [numbers[0], numbers[0] + 1, numbers[0] + 2]
    assert next_one.request is not None and next_one.request.reference == stored(desk)[-1].reference


async def test_two_copies_of_one_key_in_one_batch_store_one_request_both_answered_with_it(
    desk: Desk, writer: GroupCommit
) -> None:
    owner, rules = desk.citizen(), desk.rules("vignette")
    release = hold(writer)
    copies = [
        asyncio.ensure_future(
            file_together(desk.db, writer, desk.registry, rules, owner, Submission(GOOD_ANSWERS, "k"))
        )
        for _ in range(2)
    ]
    for _ in range(WAIT * 100):  # until both copies wait for the next batch
        if writer.waiting() == 2:
            break
        await asyncio.sleep(0.01)
    assert writer.waiting() == 2
    release.set()
    outcomes = await asyncio.gather(*copies)
    assert len({outcome.request.reference for outcome in outcomes if outcome.request}) == 1
    assert sorted(outcome.replayed for outcome in outcomes) == [False, True]
    assert len(stored(desk)) == 1 and len(audited(desk)) == 1


def test_the_filing_limit_counts_only_the_kept_members_of_a_batch(desk: Desk, writer: GroupCommit) -> None:
    release = hold(writer)
    broken = filing(desk, writer, anonymous(), plate=f"{UNFILEABLE_PLATE}-1")
    others = [filing(desk, writer, anonymous(), plate=f"AB-{number}") for number in range(4)]
    release.set()
    assert isinstance(outcome_of(broken), ServiceUnavailable)
    outcomes = [outcome_of(future) for future in others]
    assert [type(outcome) for outcome in outcomes] == [Filed, Filed, TooManyFilings, TooManyFilings]
    assert len(stored(desk)) == 2 and len(audited(desk)) == 2
    assert isinstance(outcome_of(filing(desk, writer, anonymous(), plate="AB-5")), TooManyFilings)  # counted: 2
    assert isinstance(outcome_of(filing(desk, writer, anonymous("api 192.0.2.8"), plate="AB-6")), Filed)


def test_members_of_several_communes_are_each_stored_in_their_own(desk: Desk, writer: GroupCommit) -> None:
    owner = desk.citizen()
    release = hold(writer)
    futures = [filing(desk, writer, owner, commune) for commune in ("venissieux", "corbas", "venissieux")]
    release.set()
    rows = [outcome_of(future) for future in futures]
    assert all(isinstance(row, Filed) for row in rows)
    assert [row.commune for row in stored(desk)] == ["venissieux", "corbas", "venissieux"]
    assert [entry.commune for entry in audited(desk)] == ["venissieux", "corbas", "venissieux"]


def test_nothing_is_answered_before_its_batch_committed(desk: Desk, writer: GroupCommit) -> None:
    owner = desk.citizen()
    release, reached, go_on = hold(writer), threading.Event(), threading.Event()

    def slow(_session: Session) -> None:
        reached.set()
        go_on.wait(WAIT)

    filed = filing(desk, writer, owner)
    writer.submit("venissieux", slow)
    release.set()
    assert reached.wait(WAIT)
    assert not filed.done() and stored(desk) == []  # stored in the open transaction, not answered, not visible
    go_on.set()
    outcome = outcome_of(filed)
    assert isinstance(outcome, Filed) and [row.reference for row in stored(desk)] == [outcome.request.reference]  # type: ignore[union-attr]


def test_a_failed_commit_fails_every_member_and_stores_nothing(desk: Desk, writer: GroupCommit) -> None:
    owner = desk.citizen()
    with desk.db.session() as session:
        session.execute(delete(AuditHead))  # the audit append at COMMIT fails
    release = hold(writer)
    futures = [filing(desk, writer, owner) for _ in range(3)]
    release.set()
    assert all(isinstance(outcome_of(future), AuditUnavailable) for future in futures)
    with desk.db.read_session(all_communes=True) as session:
        assert session.exec(select(func.count()).select_from(ServiceRequest)).one() == 0
    assert writer.stats.failed_batches == 1


def receipts(desk: Desk) -> list[OutboxMessage]:
    with desk.db.read_session(all_communes=True) as session:
        return list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all())


def appointment(desk: Desk, email: str) -> Prepared:
    """A filing of the service that mails its receipt to the form's e-mail field."""
    outcome = prepare(desk.registry, desk.rules("permanence"), anonymous(),
                      Submission({"email": email, "topic": "Voirie"}, secrets.token_urlsafe(12)))  # fmt: skip
    assert isinstance(outcome, Prepared), outcome
    return outcome


def test_a_batched_receipt_carries_the_address_and_message_id_made_before_the_batch(
    desk: Desk, writer: GroupCommit
) -> None:
    made = appointment(desk, "camille@Example.ORG")
    assert made.envelope is not None
    outcome = writer.submit("venissieux", functools.partial(store, registry=desk.registry, prepared=made)).result(WAIT)
    assert outcome.receipt_mailed is True
    [receipt] = receipts(desk)
    assert (receipt.recipient, receipt.message_id) == (made.envelope.recipient, made.envelope.message_id)
    assert receipt.recipient.endswith("@example.org")


def test_a_receipt_whose_address_changed_after_prepare_is_checked_and_addressed_again(
    desk: Desk, writer: GroupCommit
) -> None:
    made = appointment(desk, "camille@example.org")
    assert made.envelope is not None
    made.row.notify_email = "dominique@example.net"
    writer.submit("venissieux", functools.partial(store, registry=desk.registry, prepared=made)).result(WAIT)
    [receipt] = receipts(desk)
    assert receipt.recipient == "dominique@example.net"
    assert receipt.message_id != made.envelope.message_id


def test_an_address_that_fails_the_check_gets_no_envelope(desk: Desk) -> None:
    assert envelope_for(desk.registry.settings, "camille@@example.org") is None
    assert envelope_for(desk.registry.settings, None) is None


# Audited reads -----------------------------------------------------------------------------------------------


def reading(desk: Desk, writer: GroupCommit, agent: Caller, reference: str) -> Future[object]:
    """An agent opening a request in a thread of its own, its read recorded through ``writer``."""
    queries = BackOfficeQueries(desk.db, desk.registry, writer)
    done: Future[object] = Future()

    def read() -> None:
        try:
            done.set_result(queries.case(agent, "venissieux", reference))
        except Exception as error:  # handed to the test through the future
            done.set_exception(error)

    threading.Thread(target=read, daemon=True).start()
    return done


def test_agents_reads_arriving_together_are_recorded_in_one_batch_and_shown_only_after_it(
    desk: Desk, writer: GroupCommit
) -> None:
    reference = desk.submitted(desk.citizen()).reference
    assert reference is not None
    agent = desk.staff("ana", "agent:venissieux:vignette:reader")
    before = len(audited(desk))
    release = hold(writer)
    reads = [reading(desk, writer, agent, reference) for _ in range(3)]
    for _ in range(WAIT * 100):  # each read waits in the writer's queue for its entry
        if writer.waiting() == 3:
            break
        threading.Event().wait(0.01)
    assert writer.waiting() == 3
    assert not any(read.done() for read in reads)
    release.set()
    assert all(read.result(WAIT) is not None for read in reads)
    assert [entry.action for entry in audited(desk)[before:]] == ["request.read"] * 3
    assert writer.stats.batches == 2 and writer.stats.largest == 3  # the hold, then the three reads


def test_a_read_whose_batch_fails_to_commit_is_not_shown(desk: Desk, writer: GroupCommit) -> None:
    reference = desk.submitted(desk.citizen()).reference
    assert reference is not None
    agent = desk.staff("ana", "agent:venissieux:vignette:reader")
    with desk.db.session() as session:
        session.execute(delete(AuditHead))  # the audit append at COMMIT fails
    with pytest.raises(AuditUnavailable):
        reading(desk, writer, agent, reference).result(WAIT)
