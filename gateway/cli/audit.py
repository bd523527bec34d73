"""``guichet audit``: verify, seal, export and prune the tamper-evident audit log, manage its keys, count refusals."""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import httpx
from sqlalchemy import func
from sqlmodel import select

from gateway.audit.bundle import BundleError, build_bundle, read_bundle, verify_bundle, write_bundle
from gateway.audit.checkpoint import Verifier, generate_signer
from gateway.audit.cosignature import CosignatureVerifier
from gateway.audit.keys import verifiers_for
from gateway.audit.refusals import refusal_totals
from gateway.audit.retention import prune
from gateway.audit.sealing import SealingPolicy, seal
from gateway.audit.verify import verify_log
from gateway.audit.verify_records import read_notes
from gateway.audit.witnessing import WitnessUnavailable, fetch_witnessed, sealing_round, witnesses_of
from gateway.cli.context import migrated_database, settings_of, signer_of
from gateway.cli.witness import witness, witness_keygen
from gateway.models import AuditEntry
from gateway.settings import Settings


@click.group()
def audit() -> None:
    """The tamper-evident audit log."""


@audit.command("verify")
@click.option("--key", "keys", multiple=True, help="Verifier key to trust (repeatable); default: this gateway's keys.")
@click.option(
    "--checkpoints",
    "held_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="File of checkpoint notes kept outside the database, one after another (repeatable).",
)
@click.option(
    "--witness",
    "witness_urls",
    multiple=True,
    help="Address of a witness whose latest checkpoint of this log the database must hold (repeatable); "
    "the cosignature is checked when it is one of [audit] witnesses.",
)
@click.pass_context
def audit_verify(
    ctx: click.Context, keys: tuple[str, ...], held_files: tuple[Path, ...], witness_urls: tuple[str, ...]
) -> None:
    """Recompute the whole log; name the first entry or record modified, deleted, inserted or reordered (exit 1)."""
    settings, database = migrated_database(ctx)
    verifiers = verifiers_for(settings, keys)
    held = [note for path in held_files for note in read_notes(path.read_text(encoding="utf-8"))]
    held += held_by_witnesses(settings, witness_urls)
    minutes = settings.audit.max_checkpoint_age_minutes
    with database.engine.connect() as connection:
        total = connection.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
    with click.progressbar(length=total, label="verifying", file=sys.stderr, show_pos=True) as bar:
        report = verify_log(
            database,
            verifiers,
            progress=bar.update,
            held=held,
            origin=settings.audit_origin,
            max_age=timedelta(minutes=minutes) if minutes else None,
            archive_dir=settings.data_dir / settings.audit.archive_dir,
        )
    for note in report.notes:
        click.echo(f"note: {note}", err=True)
    if not report.ok:
        for finding in report.findings[1:]:
            click.echo(f"also: {finding.message}", err=True)
        raise click.ClickException(f"audit log NOT verified: {report.findings[0].message}")
    click.echo(
        f"audit log verified: entries {report.first} to {report.size - 1}, "
        f"{report.checkpoints} checkpoint(s) match their signature" + (f", {report.held} held outside" if held else "")
        if report.size
        else "audit log verified: no entries"
    )


def held_by_witnesses(settings: Settings, urls: tuple[str, ...]) -> list[str]:
    """Each witness's latest checkpoint of this log; one that cannot be had fails the verification."""
    if not urls:
        return []
    try:
        known = {witness.url: witness.verifier for witness in witnesses_of(settings)}
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    notes = []
    with httpx.Client(timeout=10) as client:
        for url in urls:
            verifier = known.get(url.rstrip("/"))
            if verifier is None:
                click.echo(f"note: {url} is not one of [audit] witnesses: its cosignature is not checked", err=True)
            try:
                notes.append(fetch_witnessed(url, settings.audit_origin, verifier, client=client))
            except WitnessUnavailable as error:
                raise click.ClickException(f"audit log NOT verified: {error}") from None
    return notes


@audit.command("checkpoint")
@click.option(
    "--every",
    type=click.IntRange(min=10),
    default=None,
    help="Keep running: every N seconds, seal when [audit] checkpoint_every_* says one is due (stop with Ctrl-C).",
)
@click.pass_context
def audit_checkpoint(ctx: click.Context, every: int | None) -> None:
    """Seal a signed checkpoint of the log as it is now, and send it to the configured witnesses."""
    settings, database = migrated_database(ctx)
    signer = signer_of(settings)
    policy = SealingPolicy.from_settings(settings.audit)
    try:
        witnesses = witnesses_of(settings)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    while True:
        checkpoint, outcomes = sealing_round(
            database, signer, settings.audit_origin, policy, witnesses, force=every is None
        )
        if checkpoint is not None:
            click.echo(checkpoint.note, nl=False)
        for outcome in outcomes:
            click.echo(f"witness {outcome.witness}: {outcome.message}", err=True)
        if every is None:
            return
        time.sleep(every)


@audit.command("key")
@click.pass_context
def audit_key(ctx: click.Context) -> None:
    """Print the verifier key that checks this gateway's checkpoints (give it to auditors and witnesses)."""
    click.echo(signer_of(settings_of(ctx)).verifier().to_text())


@audit.command("keygen")
@click.argument("name")
def audit_keygen(name: str) -> None:
    """Print a new signing key (keep it out of the repository) and its verifier key on stderr."""
    signer = generate_signer(name)
    click.echo(signer.to_text())
    click.echo(f"verifier key: {signer.verifier().to_text()}", err=True)


@audit.command("export")
@click.option("--since", type=click.DateTime(), default=None, help="First moment included (UTC).")
@click.option("--until", type=click.DateTime(), default=None, help="First moment excluded (UTC).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Bundle file.")
@click.pass_context
def audit_export(ctx: click.Context, since: datetime | None, until: datetime | None, output: Path) -> None:
    """Write a self-contained, offline-verifiable bundle of the entries in a period."""
    settings, database = migrated_database(ctx)
    signer = signer_of(settings)
    seal(database, signer, settings.audit_origin)
    bundle = build_bundle(
        database,
        since=since.replace(tzinfo=UTC) if since else None,
        until=until.replace(tzinfo=UTC) if until else None,
        verifier_keys=[signer.verifier().to_text()],
    )
    write_bundle(bundle, output)
    click.echo(f"{len(bundle['entries'])} entries written to {output}, proven against checkpoint {bundle['tree_size']}")


@audit.command("verify-bundle")
@click.argument("bundle_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--key", "keys", multiple=True, help="Verifier key to trust (repeatable).")
@click.option("--witness-key", "witness_keys", multiple=True,
              help="A witness's verifier key whose cosignature the checkpoint must carry (repeatable).")  # fmt: skip
def audit_verify_bundle(bundle_file: Path, keys: tuple[str, ...], witness_keys: tuple[str, ...]) -> None:
    """Verify a bundle offline, without the database."""
    try:
        bundle = read_bundle(bundle_file)
        embedded = bundle if isinstance(bundle, dict) else {}
        if not keys:
            keys = tuple(embedded.get("verifier_keys", []))
            click.echo(
                "warning: trusting the verifier key inside the bundle; pass --key to check it against yours", err=True
            )
        if not witness_keys and embedded.get("witness_keys"):
            witness_keys = tuple(embedded["witness_keys"])
            click.echo("warning: trusting the witness keys inside the bundle; pass --witness-key to check", err=True)
        verifiers = [Verifier.from_text(key) for key in keys]
        witnesses = [CosignatureVerifier.from_text(key) for key in witness_keys]
        summary = verify_bundle(bundle, verifiers, witnesses)
    except (BundleError, ValueError, TypeError) as error:
        raise click.ClickException(f"bundle NOT verified: {error}") from None
    click.echo(
        f"bundle verified: {summary.entries} entries included in the signed log of {summary.tree_size} "
        f"({summary.origin})"
    )
    if summary.cosigned_by:
        click.echo(f"checkpoint cosigned by the witness(es): {', '.join(summary.cosigned_by)}")
    if summary.subjects is not None:
        click.echo(
            f"every entry is about the bundle's {summary.subjects} pseudonym(s); the gateway states that "
            f"{summary.not_yet_covered} newer entries await the next checkpoint and {summary.withheld} "
            "were withheld (they name another person)"
        )


@audit.command("prune")
@click.pass_context
def audit_prune(ctx: click.Context) -> None:
    """Remove entries past the retention period, archiving them as a verifiable bundle first."""
    settings, database = migrated_database(ctx)
    result = prune(
        database,
        signer_of(settings),
        settings.audit_origin,
        months=settings.audit.retention_months,
    )
    if result.removed:
        click.echo(
            f"{result.removed} entries removed (archived in the database as {result.archive}, "
            f"`guichet files export` writes it out); the log now starts at {result.kept_from}"
        )
    else:
        click.echo("nothing to remove")


@audit.command("refusals")
@click.option("--since", type=click.DateTime(), default=None, help="Count from this moment (UTC); default: all kept.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object (kind -> count), for a metrics collector.")
@click.pass_context
def audit_refusals(ctx: click.Context, since: datetime | None, as_json: bool) -> None:
    """Anonymous refusals counted per kind (the audit log holds one entry per origin and minute of them)."""
    _settings, database = migrated_database(ctx)
    try:
        with database.session() as session:
            totals = refusal_totals(session, since=since.replace(tzinfo=UTC) if since else None)
    finally:
        database.dispose()
    if as_json:
        click.echo(json.dumps(totals, sort_keys=True))
        return
    for kind, count in sorted(totals.items()):
        click.echo(f"{kind}\t{count}")
    if not totals:
        click.echo("no refusal counted")


audit.add_command(witness)
audit.add_command(witness_keygen)
