"""The ``guichet`` command: serve, migrate, inspect plugins and communes, seed the demo."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
from sqlalchemy import func
from sqlmodel import Session, select

from gateway.app import load_registry
from gateway.audit.bundle import BundleError, build_bundle, read_bundle, verify_bundle, write_bundle
from gateway.audit.checkpoint import Signer, Verifier, generate_signer
from gateway.audit.keys import NoSigningKey, signer_for, verifiers_for
from gateway.audit.retention import prune
from gateway.audit.sealing import seal
from gateway.audit.verify import verify_log
from gateway.audit.verify_records import read_notes
from gateway.db import Database, NotMigrated
from gateway.identity import staff as staff_accounts
from gateway.identity.principal import Grant
from gateway.models import AuditEntry, StaffRole, StaffUser
from gateway.registry import Registry
from gateway.settings import CONFIG_ENV, ConfigError, Settings, load_settings


@contextmanager
def _clear_errors() -> Iterator[None]:
    """Configuration and migration faults end the command with one clear line."""
    try:
        yield
    except (ConfigError, NotMigrated) as error:
        raise click.ClickException(str(error)) from None


def _settings(ctx: click.Context) -> Settings:
    with _clear_errors():
        return load_settings(ctx.obj["config"])


def _registry(ctx: click.Context) -> Registry:
    with _clear_errors():
        return load_registry(_settings(ctx))


@click.group(name="guichet", context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    type=click.Path(file_okay=False, path_type=Path),
    envvar=CONFIG_ENV,
    help="Folder holding gateway.toml and communes/ (default: $GUICHET_CONFIG, else this checkout's config/).",
)
@click.version_option(package_name="guichet")
@click.pass_context
def main(ctx: click.Context, config: Path | None) -> None:
    """Guichet: the e-services gateway of an inter-municipal syndicate."""
    ctx.ensure_object(dict)
    ctx.obj["config"] = config.resolve() if config else None


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, envvar="HOST", help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), envvar="PORT", help="Port.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="Worker processes.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, workers: int) -> None:
    """Serve the gateway with uvicorn (refuses to start on a bad configuration or database)."""
    import uvicorn

    registry = _registry(ctx)
    with _clear_errors():
        Database(registry.settings.database_url).require_migrated()
    os.environ[CONFIG_ENV] = str(registry.settings.config_dir)
    click.echo(f"Guichet: {len(registry.communes)} communes, serving on http://{host}:{port}", err=True)
    uvicorn.run(
        "gateway.app:create_app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        server_header=False,
        access_log=False,  # query strings carry one-time codes and id_token_hint; the audit log says who did what
    )


@main.command()
@click.pass_context
def check(ctx: click.Context) -> None:
    """Validate the configuration files against the installed plugins."""
    registry = _registry(ctx)
    for failure in registry.plugins.failures.values():
        click.echo(f"plugin {failure.plugin} is out of service (failed in {failure.hook}: {failure.error})", err=True)
    if registry.plugins.failures:
        raise click.ClickException("some plugins failed: their services answer 'temporarily unavailable'")
    click.echo(f"configuration OK: {len(registry.communes)} communes, {len(registry.services)} services")


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target migration.")
@click.pass_context
def db_upgrade(ctx: click.Context, revision: str) -> None:
    """Apply the migrations (safe to run again: it does nothing when up to date)."""
    database = Database(_settings(ctx).database_url)
    database.upgrade(revision)
    current, _head = database.migration_state()
    click.echo(f"database at migration {current}")


@db.command("status")
@click.pass_context
def db_status(ctx: click.Context) -> None:
    """Show the current and expected migrations; exit 1 when an upgrade is needed."""
    current, head = Database(_settings(ctx).database_url).migration_state()
    click.echo(f"current: {current or 'none'}\nexpected: {head}")
    if current != head:
        click.echo("run `guichet db upgrade`", err=True)
        sys.exit(1)


@main.group()
def plugins() -> None:
    """Installed plugins."""


@plugins.command("list")
@click.pass_context
def plugins_list(ctx: click.Context) -> None:
    """Every plugin: distribution, version, hooks, services and the communes enabling each."""
    registry = _registry(ctx)
    plugin_set = registry.plugins
    services_by_plugin: dict[str, list[str]] = {}
    for key, provided in registry.services.items():
        services_by_plugin.setdefault(provided.plugin, []).append(key)
    names = sorted(set(plugin_set.names()) | set(plugin_set.failures))
    for name in names:
        dist, version = plugin_set.distributions.get(name, ("guichet", _core_version()))
        state = "FAILED" if name in plugin_set.failures else "active"
        click.echo(f"{name}  ({dist} {version}, {state})")
        if name in plugin_set.failures:
            failure = plugin_set.failures[name]
            click.echo(f"  failed in {failure.hook}: {failure.error}")
            continue
        click.echo(f"  hooks: {', '.join(plugin_set.hooks_of(name)) or '-'}")
        for key in sorted(services_by_plugin.get(name, [])):
            communes = registry.enabled_by(key)
            click.echo(f"  service {key}: enabled by {', '.join(communes) if communes else 'no commune'}")
    for name in plugin_set.blocked:
        click.echo(f"{name}  (blocked by configuration)")


def _core_version() -> str:
    from gateway import __version__

    return __version__


@main.group()
def communes() -> None:
    """Member communes."""


@communes.command("list")
@click.pass_context
def communes_list(ctx: click.Context) -> None:
    """Every commune with its INSEE code and enabled services."""
    registry = _registry(ctx)
    for commune in registry.communes.values():
        services = []
        for key in commune.services:
            services.append(key if registry.is_available(key) else f"{key} (unavailable)")
        seat = " [seat]" if commune.seat else ""
        click.echo(f"{commune.slug:<16} {commune.insee}  {commune.name}{seat}  services: {', '.join(services) or '-'}")


@communes.command("register")
@click.option("--commune", "only", default=None, help="Only this commune's entries.")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of text.")
@click.pass_context
def communes_register(ctx: click.Context, only: str | None, as_json: bool) -> None:
    """The processing register (GDPR art. 30): purpose, legal basis, data, retention of each service."""
    import dataclasses
    import json

    from gateway.requests.register import processing_register

    entries = [entry for entry in processing_register(_registry(ctx)) if only in (None, entry.commune)]
    if only is not None and not entries and _registry(ctx).commune(only) is None:
        raise click.ClickException(f"no commune {only!r}")
    if as_json:
        click.echo(json.dumps([dataclasses.asdict(entry) for entry in entries], ensure_ascii=False, indent=2))
        return
    for entry in entries:
        click.echo(
            f"== {entry.commune_name} — {entry.title} ({entry.service})" + ("" if entry.available else " [unavailable]")
        )
        click.echo(f"   finalité : {entry.purpose}")
        click.echo(f"   base légale : {entry.legal_basis}")
        click.echo(f"   données : {'; '.join(entry.data_collected) or '-'}")
        click.echo(f"   pièces : {'; '.join(entry.documents) or '-'}")
        click.echo(
            f"   conservation : {entry.retention_days} jours après la décision ; brouillons {entry.draft_days} jours"
        )
        click.echo(f"   destinataires : {entry.recipients}")


@main.group()
def demo() -> None:
    """The demo syndicate."""


@demo.command("seed")
@click.option(
    "--requests",
    "activity",
    type=click.IntRange(0, 100_000),
    default=0,
    show_default=True,
    help="Also file N more requests from demo citizens, with agents' activity on them (each run adds N).",
)
@click.option("--seed", "random_seed", type=int, default=1, show_default=True, help="Random seed for --requests.")
@click.pass_context
def demo_seed(ctx: click.Context, activity: int, random_seed: int) -> None:
    """Load the demo data (idempotent: running it twice adds nothing, except what --requests asks for)."""
    from gateway.demo import seed
    from gateway.demo_activity import seed_activity

    registry = _registry(ctx)
    if not registry.settings.gateway.demo:
        raise click.ClickException("demo data can only be loaded when gateway.demo = true")
    database = Database(registry.settings.database_url)
    with _clear_errors():
        database.require_migrated()
    created = seed(database, registry)
    if activity:
        summary = seed_activity(database, registry, activity, seed=random_seed)
        click.echo(str(summary))
    checkpoint = seal(database, _signer(registry.settings), registry.settings.audit_origin)
    database.dispose()
    click.echo(f"demo data: {created} new request(s); audit log sealed at {checkpoint.size} entries")


@main.group()
def retention() -> None:
    """Deleting what is kept no longer: expired drafts, decided requests past retention, orphan files."""


@retention.command("run")
@click.option("--now", "moment", type=click.DateTime(), default=None, help="Act as if it were this moment (UTC).")
@click.option("--batch", type=click.IntRange(min=1), default=500, show_default=True, help="Requests listed per round.")
@click.option("--dry-run", is_flag=True, help="Count what would be deleted, delete nothing.")
@click.pass_context
def retention_run(ctx: click.Context, moment: datetime | None, batch: int, dry_run: bool) -> None:
    """Apply the retention periods; safe to run from cron on several machines at once."""
    from gateway.requests.retention import run_retention

    registry = _registry(ctx)
    database = Database(registry.settings.database_url)
    with _clear_errors():
        database.require_migrated()
    try:
        report = run_retention(
            database, registry, now=moment.replace(tzinfo=UTC) if moment else None, batch=batch, dry_run=dry_run
        )
    finally:
        database.dispose()
    click.echo(str(report))


@main.group()
def audit() -> None:
    """The tamper-evident audit log."""


def _database(ctx: click.Context) -> tuple[Settings, Database]:
    settings = _settings(ctx)
    database = Database(settings.database_url)
    with _clear_errors():
        database.require_migrated()
    return settings, database


def _signer(settings: Settings) -> Signer:
    try:
        return signer_for(settings)
    except NoSigningKey as error:
        raise click.ClickException(str(error)) from None


@audit.command("verify")
@click.option("--key", "keys", multiple=True, help="Verifier key to trust (repeatable); default: this gateway's keys.")
@click.option(
    "--checkpoints",
    "held_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="File of checkpoint notes kept outside the database, one after another (repeatable).",
)
@click.pass_context
def audit_verify(ctx: click.Context, keys: tuple[str, ...], held_files: tuple[Path, ...]) -> None:
    """Recompute the whole log; name the first entry or record modified, deleted, inserted or reordered (exit 1)."""
    settings, database = _database(ctx)
    verifiers = verifiers_for(settings, keys)
    held = [note for path in held_files for note in read_notes(path.read_text(encoding="utf-8"))]
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


@audit.command("checkpoint")
@click.option(
    "--every", type=click.IntRange(min=10), default=None, help="Keep sealing every N seconds (stop with Ctrl-C)."
)
@click.pass_context
def audit_checkpoint(ctx: click.Context, every: int | None) -> None:
    """Seal a signed checkpoint of the log as it is now."""
    settings, database = _database(ctx)
    signer = _signer(settings)
    minutes = settings.audit.max_checkpoint_age_minutes
    heartbeat = timedelta(minutes=minutes / 2) if minutes else None
    while True:
        checkpoint = seal(database, signer, settings.audit_origin, heartbeat_after=heartbeat)
        click.echo(checkpoint.note, nl=False)
        if every is None:
            return
        time.sleep(every)


@audit.command("key")
@click.pass_context
def audit_key(ctx: click.Context) -> None:
    """Print the verifier key that checks this gateway's checkpoints (give it to auditors and witnesses)."""
    click.echo(_signer(_settings(ctx)).verifier().to_text())


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
    settings, database = _database(ctx)
    signer = _signer(settings)
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
def audit_verify_bundle(bundle_file: Path, keys: tuple[str, ...]) -> None:
    """Verify a bundle offline, without the database."""
    try:
        bundle = read_bundle(bundle_file)
        if keys:
            verifiers = [Verifier.from_text(key) for key in keys]
        else:
            embedded = bundle.get("verifier_keys", []) if isinstance(bundle, dict) else []
            verifiers = [Verifier.from_text(key) for key in embedded]
            click.echo(
                "warning: trusting the verifier key inside the bundle; pass --key to check it against yours", err=True
            )
        summary = verify_bundle(bundle, verifiers)
    except (BundleError, ValueError) as error:
        raise click.ClickException(f"bundle NOT verified: {error}") from None
    click.echo(
        f"bundle verified: {summary.entries} entries included in the signed log of {summary.tree_size} "
        f"({summary.origin})"
    )


@audit.command("prune")
@click.pass_context
def audit_prune(ctx: click.Context) -> None:
    """Remove entries past the retention period, archiving them as a verifiable bundle first."""
    settings, database = _database(ctx)
    result = prune(
        database,
        _signer(settings),
        settings.audit_origin,
        months=settings.audit.retention_months,
        archive_dir=settings.data_dir / settings.audit.archive_dir,
    )
    if result.removed:
        click.echo(
            f"{result.removed} entries removed (archived in {result.archive}); the log now starts at {result.kept_from}"
        )
    else:
        click.echo("nothing to remove")


@main.group()
def users() -> None:
    """Staff accounts: agents, supervisors, auditors, administrators."""


def _checked_grants(registry: Registry, texts: tuple[str, ...]) -> list[Grant]:
    grants = []
    for text in texts:
        try:
            grant = staff_accounts.parse_grant(text)
        except staff_accounts.StaffError as error:
            raise click.BadParameter(str(error), param_hint="--role") from None
        if grant.commune is not None and grant.commune not in registry.communes:
            raise click.BadParameter(f"no commune {grant.commune!r}", param_hint="--role")
        if grant.service is not None and not registry.communes[grant.commune or ""].enables(grant.service):
            raise click.BadParameter(f"{grant.commune} does not enable {grant.service!r}", param_hint="--role")
        grants.append(grant)
    return grants


@users.command("create")
@click.argument("username")
@click.option("--name", "display_name", required=True, help="Full name shown in the staff pages.")
@click.option("--email", required=True, help="Work e-mail address.")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    help="agent:<commune>[:<service>][:reader|instructor], supervisor:<commune>, auditor[:<commune>], administrator.",
)
@click.option("--password-stdin", is_flag=True, help="Read the initial password from standard input.")
@click.pass_context
def users_create(
    ctx: click.Context, username: str, display_name: str, email: str, roles: tuple[str, ...], password_stdin: bool
) -> None:
    """Create a staff account; its second factor is set up at the first sign-in."""
    registry = _registry(ctx)
    grants = _checked_grants(registry, roles)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Initial password", hide_input=True, confirmation_prompt=True)
    database = Database(registry.settings.database_url)
    try:
        with database.session() as session:
            staff_accounts.create(session, username=username, display_name=display_name, email=email,
                                  password=password, grants=grants)  # fmt: skip
    except staff_accounts.StaffError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"created {username.lower()} ({', '.join(grant.label() for grant in grants)}); "
               "the second factor is set up at the first sign-in")  # fmt: skip


@users.command("list")
@click.pass_context
def users_list(ctx: click.Context) -> None:
    """Every staff account with its roles and state."""
    _settings_db = _database(ctx)[1]
    with _settings_db.session() as session:
        for staff in session.exec(select(StaffUser).order_by(StaffUser.username)):
            grants = session.exec(select(StaffRole).where(StaffRole.staff_id == staff.id)).all()
            labels = ", ".join(Grant(g.role, g.commune, g.service, g.level).label() for g in grants)
            state = (
                "disabled"
                if staff.disabled_at
                else ("active" if staff.totp_enrolled_at else "second factor not set up")
            )
            click.echo(f"{staff.username:<20} {state:<26} {labels}")


def _change_staff(ctx: click.Context, username: str, change: Callable[[Session, StaffUser], None], done: str) -> None:
    database = _database(ctx)[1]
    with database.session() as session:
        staff = staff_accounts.find(session, username)
        if staff is None:
            raise click.ClickException(f"no staff account {username!r}")
        change(session, staff)
    click.echo(done)


@users.command("disable")
@click.argument("username")
@click.pass_context
def users_disable(ctx: click.Context, username: str) -> None:
    """Disable an account and end its open sessions at once."""
    _change_staff(ctx, username, lambda s, staff: staff_accounts.set_disabled(s, staff, True), f"{username} disabled")


@users.command("enable")
@click.argument("username")
@click.pass_context
def users_enable(ctx: click.Context, username: str) -> None:
    """Enable a disabled account again."""
    _change_staff(ctx, username, lambda s, staff: staff_accounts.set_disabled(s, staff, False), f"{username} enabled")


@users.command("reset-mfa")
@click.argument("username")
@click.pass_context
def users_reset_mfa(ctx: click.Context, username: str) -> None:
    """Forget an account's second factor (lost phone); it is set up again at the next sign-in."""
    _change_staff(ctx, username, staff_accounts.reset_second_factor, f"{username}: second factor reset")


@users.command("link-oidc")
@click.argument("username")
@click.option("--commune", "commune", required=True, help="The commune whose own identity provider the agent uses.")
@click.option("--sub", "sub", required=True, help="The agent's identifier (sub) at that provider, exactly.")
@click.pass_context
def users_link_oidc(ctx: click.Context, username: str, commune: str, sub: str) -> None:
    """Let an agent sign in through their commune's identity provider ([identity] staff_provider).

    No TOTP code is asked for then: the commune's provider does the second
    factor. Every role of the account must be for that commune.
    """
    from gateway.identity.federation import LinkError, link_staff
    from gateway.identity.providers import provider_registry

    settings, database = _database(ctx)
    provider = provider_registry(settings).staff_of(commune)
    if provider is None:
        database.dispose()
        raise click.ClickException(f"{commune!r} has no [identity.staff_provider] in its file")
    try:
        with database.session() as session:
            staff = staff_accounts.find(session, username)
            if staff is None:
                raise LinkError(f"no staff account {username!r}")
            link_staff(session, staff, provider, sub)
    except LinkError as error:
        raise click.ClickException(str(error)) from None
    finally:
        database.dispose()
    click.echo(f"{username} signs in through {provider.display_name} ({provider.issuer}) as {sub.strip()}")


@main.group()
def outbox() -> None:
    """The outbox: messages to people, delivered over SMTP."""


@outbox.command("deliver")
@click.option("--once", is_flag=True, help="Deliver what is due now, print the counts and exit.")
@click.option("--every", type=click.IntRange(min=1), default=10, show_default=True, help="Seconds between passes.")
@click.pass_context
def outbox_deliver(ctx: click.Context, once: bool, every: int) -> None:
    """Send the messages that are due; without --once, keep doing so until Ctrl-C (any number of workers may run)."""
    import signal
    import threading

    from gateway.notify.delivery import deliver_due, run_worker

    settings, database = _database(ctx)
    if once:
        report = deliver_due(database, settings)
        database.dispose()
        click.echo(str(report))
        return
    stop = threading.Event()

    def ask_to_stop(_signum: int, _frame: object) -> None:
        if stop.is_set():  # a second Ctrl-C: do not wait for the pass in progress
            raise KeyboardInterrupt
        click.echo("stopping after the current pass (Ctrl-C again to stop at once)", err=True)
        stop.set()

    previous = {number: signal.signal(number, ask_to_stop) for number in (signal.SIGINT, signal.SIGTERM)}
    click.echo(f"delivering the outbox every {every} s (Ctrl-C to stop)", err=True)
    try:
        run_worker(database, settings, every, stop, on_pass=lambda report: click.echo(str(report)))
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        database.dispose()


@outbox.command("list")
@click.pass_context
def outbox_list(ctx: click.Context) -> None:
    """Pending, sent and failed counts, and the 20 most recent messages (addresses masked)."""
    from sqlmodel import col

    from gateway.models import OutboxMessage
    from gateway.notify.outbox import masked, state_of

    _unused, database = _database(ctx)
    sent_at, failed_at = col(OutboxMessage.sent_at), col(OutboxMessage.failed_at)
    states = {
        "pending": sent_at.is_(None) & failed_at.is_(None),
        "sent": sent_at.is_not(None),
        "failed": failed_at.is_not(None),
    }
    newest_first = (col(OutboxMessage.created_at).desc(), col(OutboxMessage.id).desc())
    with database.session() as session:
        counts = {
            state: session.exec(select(func.count()).select_from(OutboxMessage).where(condition)).one()
            for state, condition in states.items()
        }
        recent = session.exec(select(OutboxMessage).order_by(*newest_first).limit(20)).all()
    database.dispose()
    click.echo(", ".join(f"{state} {number}" for state, number in counts.items()))
    if recent:
        click.echo(f"{'id':>6}  {'kind':<30} {'recipient':<34} {'state':<8} attempts")
    for message in recent:
        recipient = masked(message.recipient)
        click.echo(f"{message.id:>6}  {message.kind:<30} {recipient:<34} {state_of(message):<8} {message.attempts}")
