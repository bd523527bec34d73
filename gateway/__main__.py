"""``python -m gateway`` runs the ``guichet`` command."""

from gateway.cli import main

main(prog_name="guichet")
