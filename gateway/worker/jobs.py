"""What each background job does: the functions the separate commands call, never copies of them.

=============  ==================================================  ==============================
job            calls                                               the command doing it alone
=============  ==================================================  ==============================
outbox         :func:`gateway.notify.delivery.deliver_due`         ``guichet outbox deliver``
checkpoint     :func:`gateway.audit.witnessing.sealing_round`      ``guichet audit checkpoint``
retention      :func:`gateway.requests.retention.run_retention`    ``guichet retention run``
audit_prune    :func:`gateway.audit.retention.prune`               ``guichet audit prune``
expiry         :func:`gateway.identity.sessions.expire_sessions`,  (none: the worker only)
               :func:`~gateway.identity.spent_states.forget_expired`,
               :func:`gateway.identity.throttle.prune`,
               :func:`gateway.audit.refusals.prune_refusal_counts`,
               :func:`gateway.worker.slots.forget_old_runs`
=============  ==================================================  ==============================

Each job is a function of no argument returning counts (``{"sent": 2, ...}``)
for the run's record; it raises when it fails. What a job needs (the audit
signing key, the witnesses' keys, the plugins) is read when the worker starts,
so a wrong setting stops the start with one line instead of failing every run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime

from gateway.audit.keys import NoSigningKey, signer_for
from gateway.audit.refusals import prune_refusal_counts
from gateway.audit.retention import cutoff_for, prune
from gateway.audit.sealing import SealingPolicy
from gateway.audit.witnessing import sealing_round, witnesses_of
from gateway.db import Database
from gateway.identity import throttle
from gateway.identity.sessions import expire_sessions
from gateway.identity.spent_states import forget_expired
from gateway.notify.delivery import DeliveryReport, deliver_due
from gateway.registry import Registry
from gateway.requests.retention import THROTTLE_KEPT, run_retention
from gateway.settings import Settings
from gateway.worker.slots import forget_old_runs

Counts = dict[str, int]
JobFunction = Callable[[], Counts]

#: messages claimed per delivery pass, and passes per run at most (what is left waits for the next slot)
OUTBOX_BATCH = 100
OUTBOX_PASSES = 10


class JobSetupError(RuntimeError):
    """A job cannot be set up from the configuration (a missing key, a witness's malformed key)."""


def build_jobs(db: Database, registry: Registry, names: list[str], *, worker: str) -> dict[str, JobFunction]:
    """The functions of the jobs named, set up from ``registry``'s settings; :class:`JobSetupError` if one cannot be."""
    settings = registry.settings
    makers: dict[str, Callable[[], JobFunction]] = {
        "outbox": lambda: outbox_job(db, settings, worker),
        "checkpoint": lambda: checkpoint_job(db, settings),
        "retention": lambda: retention_job(db, registry),
        "audit_prune": lambda: audit_prune_job(db, settings),
        "expiry": lambda: expiry_job(db, settings),
    }
    try:
        return {name: makers[name]() for name in names}
    except NoSigningKey as error:
        raise JobSetupError(str(error)) from None
    except ValueError as error:  # a witness's key unreadable or malformed
        raise JobSetupError(str(error)) from None


def outbox_job(db: Database, settings: Settings, worker: str) -> JobFunction:
    def run() -> Counts:
        total = DeliveryReport()
        for _pass in range(OUTBOX_PASSES):
            report = deliver_due(db, settings, limit=OUTBOX_BATCH, worker=worker)
            total.sent, total.retried = total.sent + report.sent, total.retried + report.retried
            total.failed, total.deferred = total.failed + report.failed, total.deferred + report.deferred
            if report.handled < OUTBOX_BATCH or report.deferred:
                break
        return {"sent": total.sent, "retried": total.retried, "failed": total.failed, "deferred": total.deferred}

    return run


def checkpoint_job(db: Database, settings: Settings) -> JobFunction:
    signer = signer_for(settings)
    policy = SealingPolicy.from_settings(settings.audit)
    witnesses = witnesses_of(settings)

    def run() -> Counts:
        checkpoint, outcomes = sealing_round(db, signer, settings.audit_origin, policy, witnesses)  # logs refusals
        cosigned = sum(1 for outcome in outcomes if outcome.cosigned)
        return {
            "sealed": 0 if checkpoint is None else 1,
            "size": 0 if checkpoint is None else checkpoint.size,
            "cosigned": cosigned,
            "not_cosigned": len(outcomes) - cosigned,
        }

    return run


def retention_job(db: Database, registry: Registry) -> JobFunction:
    def run() -> Counts:
        report = run_retention(db, registry)
        return {name: value for name, value in dataclasses.asdict(report).items() if name != "dry_run"}

    return run


def audit_prune_job(db: Database, settings: Settings) -> JobFunction:
    signer = signer_for(settings)

    def run() -> Counts:
        result = prune(
            db,
            signer,
            settings.audit_origin,
            months=settings.audit.retention_months,
        )
        return {"removed": result.removed}

    return run


def expiry_job(db: Database, settings: Settings) -> JobFunction:
    def run() -> Counts:
        now = datetime.now(UTC)
        with db.session() as session:
            counts = {
                "sessions": expire_sessions(session, now=now),
                "spent_states": forget_expired(session, now=now),
                "throttles": throttle.prune(session, before=now - THROTTLE_KEPT),
                "refusal_counts": prune_refusal_counts(
                    session, before=cutoff_for(settings.audit.retention_months, now)
                ),
            }
        return {**counts, "worker_runs": forget_old_runs(db, now=now)}

    return run
