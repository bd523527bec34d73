"""``guichet communes``: the member communes, and the processing register of what they offer."""

from __future__ import annotations

import click

from gateway.cli.context import registry_of
from gateway.communes import COMMUNE_FILE


@click.group()
def communes() -> None:
    """Member communes."""


@communes.command("list")
@click.pass_context
def communes_list(ctx: click.Context) -> None:
    """Every commune with its INSEE code and enabled services."""
    registry = registry_of(ctx)
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

    entries = [entry for entry in processing_register(registry_of(ctx)) if only in (None, entry.commune)]
    if only is not None and not entries and registry_of(ctx).commune(only) is None:
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
        minimum = f", minimum légal {entry.retention_min_days} jours" if entry.retention_min_days else ""
        click.echo(
            f"   conservation : {entry.retention_days} jours après la décision"
            f" ({_source(entry.retention_source, entry.retention_key)}{minimum}) ;"
            f" brouillons {entry.draft_days} jours ({_source(entry.draft_days_source, 'retention.draft_days')})"
        )
        click.echo(f"   destinataires : {entry.recipients}")


def _source(source: str, key: str) -> str:
    """Where a retention period comes from, as the register (in French) says it."""
    return f"fichier de la commune, {key}" if source == COMMUNE_FILE else "défaut du service"
