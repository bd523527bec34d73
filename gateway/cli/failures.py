"""How every ``guichet`` command ends on a fault: one clear line, never a traceback.

The root group (:class:`OneLineGroup`) catches what escapes a command, in one
place rather than in each of them. A wrong or missing setting, or a start-up
fault (configuration, database, keys, files), ends with its own message and
exit code 2, so a script can tell "could not run" from a command's own "no"
(exit 1, e.g. an audit log that does not verify). Anything else ends with one
line naming it and how to see the traceback: ``--debug`` or ``GUICHET_DEBUG=1``,
which let every exception through as Python prints it.
"""

from __future__ import annotations

import click
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from gateway.audit.keys import NoSigningKey
from gateway.audit.log import AuditUnavailable
from gateway.db import NotMigrated
from gateway.requests.signing_keys import NoDocumentKey
from gateway.settings import ConfigError

DEBUG_ENV = "GUICHET_DEBUG"
#: the exit code of a command that could not run because of a setting or the state of what it needs
SETTING_EXIT_CODE = 2
DEBUG_HINT = f"run again with --debug (or {DEBUG_ENV}=1) to see the traceback"


class SettingFault(click.ClickException):
    """A wrong or missing setting, or something the command needs that is not there: exit code 2."""

    exit_code = SETTING_EXIT_CODE


def one_line(text: str) -> str:
    """``text`` on one line: a multi-line message (a database driver's) joined with `` / ``."""
    return " / ".join(line.strip() for line in str(text).splitlines() if line.strip())


def setting_fault(error: BaseException) -> SettingFault | None:
    """The one line a known setting or start-up fault ends a command with; None for any other exception."""
    if isinstance(error, ConfigError | NotMigrated | NoSigningKey | NoDocumentKey | AuditUnavailable):
        return SettingFault(one_line(str(error)))
    if isinstance(error, NoSuchModuleError | ArgumentError):
        return SettingFault(f"the database URL is not understood ({one_line(str(error))}): check [database] url")
    if isinstance(error, DBAPIError):  # unreachable, refused, wrong credentials, unreadable SQLite file
        return SettingFault(
            f"the database cannot be used: {one_line(str(error.orig))} "
            "(check [database] url or GUICHET_DATABASE_URL, and that the server runs)"
        )
    if isinstance(error, OSError):
        return SettingFault(f"a file or folder cannot be used: {one_line(str(error))}")
    return None


def unexpected(error: BaseException) -> click.ClickException:
    """Any other exception, named on one line with the way to its traceback (exit code 1)."""
    detail = one_line(str(error))
    return click.ClickException(f"unexpected {type(error).__name__}{': ' + detail if detail else ''} ({DEBUG_HINT})")


class OneLineGroup(click.Group):
    """The root group: what its commands let escape ends with one line (see the module's docstring)."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as error:
            if ctx.params.get("debug"):
                raise
            raise (setting_fault(error) or unexpected(error)) from None
