"""Antivirus connectors for the attachment tests: one that finds the EICAR test file, and broken ones.

The module itself is the working scanner; the classes are registered as
separate plugins (pluggy accepts any object carrying hook implementations).
"""

from __future__ import annotations

from gateway import Commune, ScanVerdict, hookimpl

#: the plugin API version this plugin is written for (docs/plugin_api.md)
GUICHET_PLUGIN_API = "1.0"

# the EICAR antivirus test string, cut in two so that this source file does not itself trip a scanner
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-" + b"STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
#: communes this scanner does not cover (it answers None: "not scanned by me")
UNCOVERED = frozenset({"grigny"})


@hookimpl
def guichet_scan_attachment(commune: Commune, data: bytes) -> ScanVerdict | None:
    if commune.slug in UNCOVERED:
        return None
    if EICAR in data:
        return ScanVerdict(clean=False, finding="Eicar-Test-Signature")
    return ScanVerdict(clean=True)


class UnreachableScanner:
    """A connector whose scanning daemon is down."""

    GUICHET_PLUGIN_API = GUICHET_PLUGIN_API

    @hookimpl
    def guichet_scan_attachment(self, filename: str) -> ScanVerdict | None:
        raise ConnectionRefusedError("clamd is not listening")


class ConfusedScanner:
    """A connector that answers something other than a verdict."""

    GUICHET_PLUGIN_API = GUICHET_PLUGIN_API

    @hookimpl
    def guichet_scan_attachment(self, filename: str) -> ScanVerdict | None:
        return "OK"  # type: ignore[return-value]
