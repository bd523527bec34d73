"""The deployment folder a test writes: ``gateway.toml`` and one file per commune, in a temporary directory.

A test builds the gateway from files, as an operator's deployment is built, so
what is tested is what an operator writes. The folder starts either blank (a
few gateway settings, no commune: the test adds the communes it needs, which
works from an installed wheel) or as a copy of the demo syndicate's ``config/``
(only in a source checkout, for the core's own tests).
"""

from __future__ import annotations

import copy
import shutil
import tomllib
import zlib
from pathlib import Path
from typing import Any

from gateway.settings import DEFAULT_CONFIG_DIR
from gateway.testing.toml_writer import dumps_toml

#: a blank deployment's gateway settings; ConfigFolder points its files at the test's own folder
BLANK_GATEWAY: dict[str, Any] = {
    "gateway": {
        "name": "Guichet de test",
        "public_base_url": "http://127.0.0.1:8000",
        "default_locale": "fr",
        # demo mode lets the gateway make its secret and audit keys in the test's folder; the demo identity
        # provider stays off, so sign-ins are the kit's (sign_in_citizen, sign_in_staff, verified_citizen)
        "demo": True,
    },
    "demo_identity": {"enabled": False},
}


class ConfigFolder:
    """A deployment folder in a temporary directory: blank (``source=None``) or a copy of ``source``.

    Edit it before the app is built: :meth:`enable_service` (the usual step for a
    plugin's tests), :meth:`add_commune`, :meth:`merge_commune`, :meth:`set_commune`,
    :meth:`remove_commune`, :meth:`add_local_plugin`, :meth:`set_gateway`. Values are written back as TOML.
    """

    def __init__(self, root: Path, source: Path | None = None) -> None:
        self.path = root / "config"
        if source is None:
            (self.path / "communes").mkdir(parents=True)
            self.write("gateway.toml", copy.deepcopy(BLANK_GATEWAY))
        else:
            shutil.copytree(source, self.path)
        self.data_dir = root / "var"
        self.set_gateway(
            storage={"data_dir": str(self.data_dir)},
            secret_key={"env": "GUICHET_TEST_UNSET_SECRET", "file": str(root / "secret"), "generate_if_missing": True},
            # no demo witnesses: they listen on fixed ports; a test that wants witnesses names its own
            audit={
                "signing_key_env": "GUICHET_TEST_UNSET_AUDIT_KEY",
                "signing_key_file": str(root / "audit-key"),
                "generate_if_missing": True,
                "witnesses": [],
            },
            documents={"signing_keys_dir": str(root / "document-keys"), "generate_if_missing": True},
            # every test client files from one address, many times over: the limits are out of the way unless a
            # test sets them (tests/test_filing_limits.py)
            filing_limits={
                "anonymous_per_origin": 100_000,
                "receipts_per_address": 10_000,
                "receipts_per_origin": 100_000,
            },
        )

    @classmethod
    def demo(cls, root: Path) -> ConfigFolder:
        """A copy of the demo syndicate's ``config/``: only in a source checkout of Guichet."""
        if not (DEFAULT_CONFIG_DIR / "gateway.toml").is_file():
            raise FileNotFoundError(
                f"no demo configuration at {DEFAULT_CONFIG_DIR}: it ships with a source checkout only; "
                "outside one, start blank (ConfigFolder(root)) and add communes with enable_service"
            )
        return cls(root, DEFAULT_CONFIG_DIR)

    # files ----------------------------------------------------------------------------------------------

    def read(self, relative: str) -> dict[str, Any]:
        with (self.path / relative).open("rb") as handle:
            return tomllib.load(handle)

    def write(self, relative: str, data: dict[str, Any]) -> None:
        (self.path / relative).write_text(dumps_toml(data), encoding="utf-8")

    def communes(self) -> list[str]:
        """The slugs of the communes the folder holds, sorted."""
        return sorted(path.stem for path in (self.path / "communes").glob("*.toml"))

    # gateway.toml ---------------------------------------------------------------------------------------

    def set_gateway(self, **sections: dict[str, Any]) -> None:
        """Set keys of ``gateway.toml``'s sections, e.g. ``set_gateway(database={"url": url})`` (other keys stay)."""
        data = self.read("gateway.toml")
        for name, values in sections.items():
            data.setdefault(name, {}).update(values)
        self.write("gateway.toml", data)

    # communes -------------------------------------------------------------------------------------------

    def add_commune(self, slug: str, /, **values: Any) -> None:
        """Write a new commune file with fictitious but valid details; ``values`` replace any of them.

        ``add_commune("ville-a", name="Ville-A", services={"cantine": {"menus": 2}})``
        """
        if (self._commune_path(slug)).exists():
            raise FileExistsError(f"commune {slug!r} already exists in {self.path}; use merge_commune or set_commune")
        self.write(f"communes/{slug}.toml", {**fictitious_commune(slug), **values})

    def enable_service(self, slug: str, service: str, /, **settings: Any) -> None:
        """Offer ``service`` in commune ``slug`` with these settings (the commune is added if missing).

        The service's table is replaced whole; the commune's other services and keys stay.
        """
        if not self._commune_path(slug).exists():
            self.add_commune(slug)
        data = self.read(f"communes/{slug}.toml")
        data.setdefault("services", {})[service] = settings
        self.write(f"communes/{slug}.toml", data)

    def disable_service(self, slug: str, service: str, /) -> None:
        """Stop offering ``service`` in commune ``slug`` (its settings are removed)."""
        data = self.read(f"communes/{slug}.toml")
        data.get("services", {}).pop(service, None)
        self.write(f"communes/{slug}.toml", data)

    def merge_commune(self, slug: str, /, **values: Any) -> None:
        """Merge ``values`` into the commune's file, table by table: keys not named stay as they were.

        ``merge_commune("givors", services={"contact": {"reply_within_days": 3}})`` changes one
        setting of one service and leaves the commune's other services and settings alone.
        """
        relative = f"communes/{slug}.toml"
        data = self.read(relative) if self._commune_path(slug).exists() else fictitious_commune(slug)
        self.write(relative, deep_merge(data, values))

    def set_commune(self, slug: str, /, **values: Any) -> None:
        """Replace the commune's top-level keys named in ``values``, each whole (tables included).

        ``set_commune("givors", services={"contact": {...}})`` leaves Givors offering the contact
        service only; to change one service's settings and keep the others, use :meth:`merge_commune`.
        """
        relative = f"communes/{slug}.toml"
        data = self.read(relative) if self._commune_path(slug).exists() else {}
        data.update(values)
        self.write(relative, data)

    def add_local_plugin(self, slug: str, name: str, folder: Path, /) -> None:
        """Deploy the package in ``folder`` as commune ``slug``'s local plugin ``name`` (docs/local_plugins.md).

        The folder is copied under ``local-plugins/<name>`` and named in the commune's file (the
        commune is added if missing); enable its services with :meth:`enable_service`.
        """
        shutil.copytree(folder, self.path / "local-plugins" / name)
        relative = f"communes/{slug}.toml"
        data = self.read(relative) if self._commune_path(slug).exists() else fictitious_commune(slug)
        entry = {"name": name, "path": f"local-plugins/{name}"}
        data["local_plugins"] = [*data.get("local_plugins", []), entry]
        self.write(relative, data)

    def remove_commune(self, slug: str) -> None:
        self._commune_path(slug).unlink()

    def _commune_path(self, slug: str) -> Path:
        return self.path / "communes" / f"{slug}.toml"


def fictitious_commune(slug: str) -> dict[str, Any]:
    """A commune file's required details, made up from the slug (stable from run to run)."""
    name = "-".join(part.capitalize() for part in slug.split("-"))
    number = zlib.crc32(slug.encode()) % 900  # a stable, made-up INSEE code in the Rhône (69xxx)
    return {
        "slug": slug,
        "name": name,
        "insee": f"69{number + 100:03d}",
        "department": "69",
        "address": {"street": "1 place de la Mairie", "postcode": "69000", "city": name},
        "contact": {"email": f"contact@{slug}.example", "phone": "04 00 00 00 00"},
    }


def deep_merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``changes`` merged in: tables merge key by key, any other value replaces."""
    merged = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged
