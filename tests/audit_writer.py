"""A separate gateway process appending audit entries (spawned by test_audit_processes.py)."""

from __future__ import annotations

import sys

from gateway.audit.events import AuditEvent
from gateway.audit.log import record
from gateway.db import Database


def main(url: str, writer: int, count: int) -> None:
    db = Database(url)
    for number in range(count):
        with db.session() as session:
            record(
                session,
                AuditEvent(
                    action="request.read",
                    actor_id=f"agent:{writer}",
                    actor_role="agent",
                    resource=f"request/{writer}-{number}",
                    purpose="instruction",
                    origin=f"cli writer {writer}",
                    commune="corbas",
                ),
            )
    db.dispose()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
