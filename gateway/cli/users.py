"""``guichet users``: staff accounts, their roles, second factor and link to a commune's identity provider."""

from __future__ import annotations

import sys
from collections.abc import Callable

import click
from sqlmodel import Session, select

from gateway.audit.events import SYSTEM
from gateway.cli.context import migrated_database, registry_of
from gateway.db import Database
from gateway.identity import staff as staff_accounts
from gateway.identity import staff_admin
from gateway.identity.principal import Grant
from gateway.models import StaffRole, StaffUser
from gateway.registry import Registry


@click.group()
def users() -> None:
    """Staff accounts: agents, supervisors, auditors, administrators."""


def _checked_grants(registry: Registry, texts: tuple[str, ...]) -> list[Grant]:
    grants = []
    for text in texts:
        try:
            grants.append(staff_admin.checked_grant(registry, text))
        except staff_accounts.StaffError as error:
            raise click.BadParameter(str(error), param_hint="--role") from None
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
    help="agent:<commune>[:<service>][:reader|instructor|supervisor], supervisor:<commune>, auditor[:<commune>], "
    "administrator[:<commune>].",
)
@click.option("--password-stdin", is_flag=True, help="Read the initial password from standard input.")
@click.pass_context
def users_create(
    ctx: click.Context, username: str, display_name: str, email: str, roles: tuple[str, ...], password_stdin: bool
) -> None:
    """Create a staff account; its second factor is set up at the first sign-in."""
    registry = registry_of(ctx)
    grants = _checked_grants(registry, roles)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Initial password", hide_input=True, confirmation_prompt=True)
    database = Database(registry.settings.database_url)
    try:
        with database.session() as session:
            staff_accounts.create(session, username=username, display_name=display_name, email=email,
                                  password=password, grants=grants, commune=staff_admin.commune_of(grants))  # fmt: skip
    except staff_accounts.StaffError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"created {username.lower()} ({', '.join(grant.label() for grant in grants)}); "
               "the second factor is set up at the first sign-in")  # fmt: skip


def _administer(ctx: click.Context, username: str, act: Callable[[Session, int], None]) -> None:
    """Run an act of :mod:`gateway.identity.staff_admin` on ``username``, with the syndicate's reach."""
    database = migrated_database(ctx)[1]
    try:
        with database.session() as session:
            staff = staff_accounts.find(session, username)
            if staff is None or staff.id is None:
                raise click.ClickException(f"no staff account {username!r}")
            act(session, staff.id)
    except staff_admin.AdminProblem as problem:
        raise click.ClickException(problem.message("en")) from None
    finally:
        database.dispose()


@users.command("grant")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True, help="A role, written as for `users create`.")
@click.pass_context
def users_grant(ctx: click.Context, username: str, roles: tuple[str, ...]) -> None:
    """Give an account more roles (recorded in the audit log)."""
    grants = _checked_grants(registry_of(ctx), roles)

    def give(session: Session, staff_id: int) -> None:
        for grant in grants:
            staff_admin.give(session, staff_admin.SYNDICATE, SYSTEM, staff_id, grant, origin="cli users grant")

    _administer(ctx, username, give)
    click.echo(f"{username}: given {', '.join(grant.label() for grant in grants)}")


@users.command("withdraw")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True, help="A role the account holds, as for `users create`.")
@click.pass_context
def users_withdraw(ctx: click.Context, username: str, roles: tuple[str, ...]) -> None:
    """Withdraw roles from an account (never its last one: disable the account instead)."""
    grants = _checked_grants(registry_of(ctx), roles)

    def withdraw(session: Session, staff_id: int) -> None:
        reach = staff_admin.SYNDICATE
        for grant in grants:
            role_id = staff_admin.role_id_of(session, reach, staff_id, grant)
            staff_admin.withdraw(session, reach, SYSTEM, 0, staff_id, role_id, origin="cli users withdraw")

    _administer(ctx, username, withdraw)
    click.echo(f"{username}: withdrawn {', '.join(grant.label() for grant in grants)}")


@users.command("list")
@click.pass_context
def users_list(ctx: click.Context) -> None:
    """Every staff account with its roles and state."""
    _settings_db = migrated_database(ctx)[1]
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
    database = migrated_database(ctx)[1]
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

    settings, database = migrated_database(ctx)
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
