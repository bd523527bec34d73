"""``guichet audit witness`` and ``guichet audit witness-keygen``: run a witness of other logs, apart from any gateway.

The witness needs no gateway configuration and no database: its key file, the
verifier keys of the logs it follows, and a folder for its state and reports.
"""

from __future__ import annotations

from pathlib import Path

import click

from gateway.audit.cosignature import generate_cosigner, load_witness_key, write_witness_key
from gateway.witness.config import WitnessConfig, follow


@click.command("witness")
@click.option(
    "--key-file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The witness's signing key (`guichet audit witness-keygen`).",
)
@click.option(
    "--log",
    "logs",
    multiple=True,
    required=True,
    help="A log to follow: its verifier key, or '<origin> <verifier key>' when the origin is not the key's name "
    "(repeatable).",
)
@click.option(
    "--data-dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of the witness's state (witness.sqlite) and its reports of misbehaving logs (reports/).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8100, show_default=True, type=click.IntRange(1, 65535), help="Port.")
def witness(key_file: Path, logs: tuple[str, ...], data_dir: Path, host: str, port: int) -> None:
    """Run a witness: cosign the checkpoints of the logs it follows, refuse and report any inconsistency."""
    import uvicorn

    from gateway.witness.app import create_witness_app

    try:
        config = WitnessConfig(
            signer=load_witness_key(key_file),
            logs=follow(logs),
            state_file=data_dir / "witness.sqlite",
            reports_dir=data_dir / "reports",
        )
    except (OSError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"witness {config.signer.verifier().to_text()}", err=True)
    click.echo(f"following {', '.join(sorted(config.logs))}; listening on http://{host}:{port}", err=True)
    uvicorn.run(create_witness_app(config), host=host, port=port, server_header=False, access_log=False)


@click.command("witness-keygen")
@click.argument("name")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Key file to create (0600)."
)
def witness_keygen(name: str, output: Path) -> None:
    """Create a witness signing key NAME in a new file; print its verifier key (give it to the logs it witnesses)."""
    try:
        signer = generate_cosigner(name)
        write_witness_key(output, signer)
    except FileExistsError:
        raise click.ClickException(f"{output} exists: a witness key is never overwritten") from None
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    click.echo(signer.verifier().to_text())
