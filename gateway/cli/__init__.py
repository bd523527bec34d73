"""The ``guichet`` command: serve, migrate, plugins, communes, the demo, audit, users, outbox, the worker.

One module per command group; this one holds the root group and gathers them.
Whatever a command lets escape ends with one line (:mod:`gateway.cli.failures`).
The console script ``guichet`` and ``python -m gateway`` both run :func:`main`.
"""

from __future__ import annotations

from pathlib import Path

import click

from gateway.cli.audit import audit
from gateway.cli.communes import communes
from gateway.cli.db import db
from gateway.cli.demo import demo
from gateway.cli.documents import documents
from gateway.cli.failures import DEBUG_ENV, OneLineGroup
from gateway.cli.files import files
from gateway.cli.new_plugin import new_plugin
from gateway.cli.outbox import outbox
from gateway.cli.plugins import plugins
from gateway.cli.retention import retention
from gateway.cli.serve import check, serve
from gateway.cli.users import users
from gateway.cli.worker import worker
from gateway.settings import CONFIG_ENV


@click.group(name="guichet", cls=OneLineGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    type=click.Path(file_okay=False, path_type=Path),
    envvar=CONFIG_ENV,
    help="Folder holding gateway.toml and communes/ (default: $GUICHET_CONFIG, else this checkout's config/).",
)
@click.option(
    "--debug",
    is_flag=True,
    envvar=DEBUG_ENV,
    help=f"Let an unexpected fault end with its Python traceback (also ${DEBUG_ENV}=1).",
)
@click.version_option(package_name="guichet")
@click.pass_context
def main(ctx: click.Context, config: Path | None, debug: bool) -> None:
    """Guichet: the e-services gateway of an inter-municipal syndicate."""
    ctx.ensure_object(dict)
    ctx.obj["config"] = config.resolve() if config else None


COMMANDS = (
    serve, check, db, plugins, new_plugin, communes, demo, retention, audit, users, outbox, documents, worker, files
)  # fmt: skip
for command in COMMANDS:
    main.add_command(command)
