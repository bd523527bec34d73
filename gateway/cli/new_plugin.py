"""``guichet new-plugin NAME``: a new plugin's distribution, ready to install and test (gateway.scaffold)."""

from __future__ import annotations

from pathlib import Path

import click

from gateway.scaffold import ScaffoldError, generate


@click.command("new-plugin")
@click.argument("name")
@click.option(
    "--into",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Folder in which the plugin's folder guichet-NAME is created.",
)
def new_plugin(name: str, into: Path) -> None:
    """Generate the plugin NAME (its service key) in a new folder guichet-NAME: installable, its tests passing."""
    try:
        target = generate(name, into)
    except ScaffoldError as refused:
        raise click.UsageError(str(refused)) from None
    click.echo(f"plugin {name!r} written to {target}")
    click.echo("next, in that folder: pip install 'guichet[test]' . && python -m pytest (docs/writing_plugins.md)")
