"""Gateway benchmarks: page rendering and filing, each against the floor beneath it.

Run with ``make bench`` (or ``python -m bench.bench_gateway [--quick]``). It
builds a throw-away deployment on SQLite under a temporary folder.

- *commune page* vs */healthz*: what templates, translations and tenancy cost
  on top of the bare framework and middleware for one request.
- *filing a request* vs *one raw INSERT*: what validation, plugin hooks, the
  reference counter and the tenancy checks cost on top of storing the row.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from starlette.applications import Starlette

from bench.harness import Comparison, compare
from gateway.app import create_app
from gateway.audit.events import ANONYMOUS
from gateway.models import ServiceRequest
from gateway.requests.caller import Caller
from gateway.requests.filing import Submission, file_request
from gateway.requests.rules import rules_for
from gateway.testing import ConfigFolder, GuichetClient, migrate

MESSAGE = {
    "name": "Camille Exemple",
    "email": "camille@example.org",
    "topic": "voirie",
    "message": "Un trou dans la rue.",
}


def run(operations: int, rounds: int) -> list[Comparison]:
    with tempfile.TemporaryDirectory() as folder:
        config = ConfigFolder.demo(Path(folder))
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        config.set_gateway(database={"url": url})
        migrate(url)
        app = create_app(config.path)
        results = [_pages(app, operations, rounds), _filing(app, operations, rounds)]
        app.state.db.dispose()
    return results


def _pages(app: Starlette, operations: int, rounds: int) -> Comparison:
    def requests_to(path: str) -> Callable[[int], None]:
        async def many(n: int) -> None:
            async with GuichetClient(app) as client:
                for _ in range(n):
                    assert (await client.get(path)).status_code == 200

        return lambda n: asyncio.run(many(n))

    commune_page, healthz = requests_to("/venissieux"), requests_to("/healthz")

    return compare(
        "commune page (GET /venissieux)", commune_page, "GET /healthz", healthz, operations=operations, rounds=rounds
    )


def _filing(app: Starlette, operations: int, rounds: int) -> Comparison:
    db = app.state.db
    registry = app.state.registry
    commune = registry.communes["venissieux"]
    keys = itertools.count()

    def filing(n: int) -> None:
        for _ in range(n):
            rules = rules_for(registry, commune, "contact")  # as each HTTP request resolves them
            file_request(db, registry, rules, Caller(ANONYMOUS, "bench"), Submission(MESSAGE, f"bench-{next(keys)}"))

    def raw_insert(n: int) -> None:
        table = ServiceRequest.__table__  # type: ignore[attr-defined]
        for _ in range(n):
            number = next(keys)
            with db.engine.begin() as connection:
                connection.execute(
                    table.insert().values(
                        reference=f"RAW-{number}",
                        commune="venissieux",
                        service="contact",
                        status="submitted",
                        locale="fr",
                        data=MESSAGE,
                        submission_key=f"raw-{number}",
                        created_at=datetime.now(UTC),
                    )
                )

    return compare("filing a request (file_request)", filing, "one INSERT in its own transaction", raw_insert,
                   operations=operations, rounds=rounds)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer operations, for a smoke run")
    args = parser.parse_args()
    operations, rounds = (20, 2) if args.quick else (300, 5)
    for comparison in run(operations, rounds):
        print(comparison.report())


if __name__ == "__main__":
    main()
