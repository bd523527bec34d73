"""What the commands load from the command line's context: settings, registry, migrated database, signer.

Configuration and migration faults end a command with one clear line, never a traceback, and exit
code 2 (:mod:`gateway.cli.failures`, which the root group applies to every command anyway).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click

from gateway.app import load_registry
from gateway.audit.checkpoint import Signer
from gateway.audit.keys import NoSigningKey, signer_for
from gateway.cli.failures import SettingFault
from gateway.db import Database, NotMigrated
from gateway.registry import Registry
from gateway.settings import ConfigError, Settings, load_settings


@contextmanager
def clear_errors() -> Iterator[None]:
    """Configuration and migration faults end the command with one clear line."""
    try:
        yield
    except (ConfigError, NotMigrated) as error:
        raise SettingFault(str(error)) from None


def settings_of(ctx: click.Context) -> Settings:
    """The settings from the folder ``--config`` names (or its default)."""
    with clear_errors():
        return load_settings(ctx.obj["config"])


def registry_of(ctx: click.Context) -> Registry:
    """Settings and plugins joined, as the gateway would load them."""
    with clear_errors():
        return load_registry(settings_of(ctx))


def migrated_database(ctx: click.Context) -> tuple[Settings, Database]:
    """The settings and their database, which must be migrated."""
    settings = settings_of(ctx)
    database = Database(settings.database_url)
    with clear_errors():
        database.require_migrated()
    return settings, database


def signer_of(settings: Settings) -> Signer:
    """The audit log's signer; a missing key ends the command with what to do."""
    try:
        return signer_for(settings)
    except NoSigningKey as error:
        raise SettingFault(str(error)) from None
