"""Load and validate the deployment's configuration files.

A deployment is a folder holding ``gateway.toml`` and ``communes/<slug>.toml``.
Everything is checked before the gateway starts; the first fault stops the
start with one :class:`ConfigError` naming the file, the key and the fault, so
an operator fixes a reviewed file instead of reading a stack trace.

This module only checks what the files say on their own. Whether a commune's
services exist is checked against the installed plugins by
:func:`gateway.registry.build_registry`.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel, EmailStr, Field, ValidationError, field_validator, model_validator

from gateway.settings.audit_origin import demo_key_origin
from gateway.settings.audit_review import AuditReviewSettings as AuditReviewSettings
from gateway.settings.base import ConfigError as ConfigError
from gateway.settings.base import Strict, absolute_http_url
from gateway.settings.base import config_error as config_error
from gateway.settings.base import is_loopback as is_loopback
from gateway.settings.database_url import database_url
from gateway.settings.observability import LoggingSection as LoggingSection
from gateway.settings.observability import MetricsSection as MetricsSection
from gateway.settings.observability import load_metrics_token
from gateway.settings.providers import RESERVED_PROVIDER_KEYS as RESERVED_PROVIDER_KEYS
from gateway.settings.providers import WELL_KNOWN_OPENID as WELL_KNOWN_OPENID
from gateway.settings.providers import IdentityProviderSection as IdentityProviderSection
from gateway.settings.providers import IdentitySection as IdentitySection
from gateway.settings.worker import JobSection as JobSection
from gateway.settings.worker import WorkerSection as WorkerSection

M = TypeVar("M", bound=BaseModel)

CONFIG_ENV = "GUICHET_CONFIG"
DATABASE_URL_ENV = "GUICHET_DATABASE_URL"
PUBLIC_BASE_URL_ENV = "GUICHET_PUBLIC_BASE_URL"
DEFAULT_CONFIG_DIR = Path(__file__).resolve().parent.parent.parent / "config"


class GatewaySection(Strict):
    name: str = Field(min_length=1)
    public_base_url: str
    default_locale: Literal["fr", "en"] = "fr"
    demo: bool = False
    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1024, le=200 * 1024 * 1024)

    @field_validator("public_base_url")
    @classmethod
    def _absolute_http_url(cls, value: str) -> str:
        return absolute_http_url(value)


class StorageSection(Strict):
    data_dir: str = "../var"


class DatabaseSection(Strict):
    url: str | None = None
    #: SQLite: how long a transaction waits for another's write lock before the request answers 503
    lock_wait_seconds: float = Field(default=5.0, gt=0, le=60)
    #: `guichet serve`: how long to keep trying a database it cannot reach at start (0: stop at once)
    start_retry_seconds: int = Field(default=0, ge=0, le=3600)


class SecretKeySection(Strict):
    env: str | None = "GUICHET_SECRET_KEY"
    file: str | None = None
    generate_if_missing: bool = False


class PluginsSection(Strict):
    blocked: tuple[str, ...] = ()


class WitnessSection(Strict):
    """A witness the gateway sends each new checkpoint to (C2SP tlog-witness), and whose cosignature it keeps."""

    #: a short label, stored with its cosignatures and shown in the auditor console
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
    #: the witness's address; add-checkpoint is POSTed to <url>/add-checkpoint
    url: str
    #: the witness's verifier key, <name>+<key id>+<base64(0x04 || key)> (`guichet audit witness-keygen` prints it)
    key: str | None = Field(default=None, pattern=r"^[^+\s]+\+[0-9a-f]{8}\+[A-Za-z0-9+/]+={0,2}$")
    #: or a file holding that key (relative to this folder)
    key_file: str | None = None
    #: demo only: `guichet serve` runs this witness itself on the url's port, its key made under storage.data_dir
    demo: bool = False

    @field_validator("url")
    @classmethod
    def _absolute_http_url(cls, value: str) -> str:
        return absolute_http_url(value)

    @model_validator(mode="after")
    def _one_key(self) -> WitnessSection:
        if self.demo and (self.key or self.key_file):
            raise ValueError("a demo witness makes its own key: give neither key nor key_file")
        if not self.demo and (self.key is None) == (self.key_file is None):
            raise ValueError("give the witness's verifier key as key or as key_file (one of them)")
        return self


class AuditSection(Strict):
    """The audit log: how long entries are kept, which key seals checkpoints, how often, and who witnesses them."""

    retention_months: int = Field(default=12, ge=1, le=36)
    #: required above 12 months (CNIL: 6 to 12 months unless a documented reason)
    retention_reason: str | None = None
    #: first line of every checkpoint; default: the public host followed by /audit
    origin: str | None = Field(default=None, pattern=r"^[^\s+]+$")
    signing_key_env: str | None = "GUICHET_AUDIT_SIGNING_KEY"
    signing_key_file: str | None = None
    generate_if_missing: bool = False
    #: verifier keys of earlier signing keys, kept after a rotation
    extra_verifier_keys: tuple[str, ...] = ()
    archive_dir: str = "audit-archive"
    #: `guichet audit verify` fails when the newest sealed entry is older than this (0: no limit);
    #: `guichet worker` (or `audit checkpoint --every`) keeps a quiet log fresh with a heartbeat entry
    max_checkpoint_age_minutes: int = Field(default=1440, ge=0, le=525_600)
    #: `guichet worker` (or `audit checkpoint --every`) seals once this many entries came since the last seal (0: never)
    checkpoint_every_entries: int = Field(default=1000, ge=0, le=100_000_000)
    #: ... or once the last checkpoint is this old and entries came since (0: never by age)
    checkpoint_every_minutes: int = Field(default=60, ge=0, le=525_600)
    #: witnesses each new checkpoint is sent to, for their cosignatures
    witnesses: tuple[WitnessSection, ...] = ()

    @model_validator(mode="after")
    def _coherent(self) -> AuditSection:
        if self.retention_months > 12 and not self.retention_reason:
            raise ValueError("retention_months above 12 needs a retention_reason")
        limit, every = self.max_checkpoint_age_minutes, self.checkpoint_every_minutes
        if limit and every > limit:
            raise ValueError(f"checkpoint_every_minutes ({every}) must not exceed max_checkpoint_age_minutes "
                             f"({limit}): verify would find the log stale between two seals")  # fmt: skip
        if len({witness.name for witness in self.witnesses}) != len(self.witnesses):
            raise ValueError("two witnesses share a name")
        return self


class SmtpSection(Strict):
    """Where the outbox worker hands messages over (an MTA of the syndicate's own)."""

    host: str = "127.0.0.1"
    port: int = Field(default=25, ge=1, le=65535)
    #: "none" (loopback or trusted relay), "starttls" or "tls" (implicit TLS, port 465)
    security: Literal["none", "starttls", "tls"] = "none"
    username: str | None = None
    #: name of the environment variable holding the SMTP password (never the password itself)
    password_env: str | None = None
    sender: str = "Guichet <ne-pas-repondre@guichet.example>"
    timeout_seconds: int = Field(default=20, ge=1, le=300)


class OutboxSection(Strict):
    """Delivery of the transactional outbox: retries with back-off, then give up."""

    max_attempts: int = Field(default=8, ge=1, le=50)
    first_retry_seconds: int = Field(default=60, ge=1, le=3600)
    #: how long a worker holds a message it is sending before another may take it
    claim_seconds: int = Field(default=300, ge=10, le=3600)


class FilingLimitsSection(Strict):
    """What keeps a service open without an account from flooding the gateway or relaying mail.

    Counted in the database over fixed windows, so every process shares them.
    """

    #: filings accepted per window from one origin (client address, IPv6 by /64) without an account; more: 429
    anonymous_per_origin: int = Field(default=20, ge=1, le=100_000)
    anonymous_window_minutes: int = Field(default=10, ge=1, le=1440)
    #: receipts mailed per window to an address nobody verified, per address and per origin (0: never);
    #: past them the filing is still accepted, only its receipt is not mailed
    receipts_per_address: int = Field(default=3, ge=0, le=10_000)
    receipts_per_origin: int = Field(default=10, ge=0, le=100_000)
    receipt_window_minutes: int = Field(default=60, ge=1, le=1440)


class DemoIdentitySection(Strict):
    """The demo identity provider: fictitious people, for demo deployments on loopback only."""

    enabled: bool = False


class DocumentsSection(Strict):
    """Documents services issue (certificates): each commune's Ed25519 signing keys and the PDF fonts."""

    #: one folder per commune holding its keys (``<key id>.pem``, private, mode 0600; ``<key id>.pub``, public);
    #: relative to this folder; outside the repository (`guichet documents keygen` makes and rotates keys)
    signing_keys_dir: str = "../var/document-keys"
    #: demo only: make a commune's first key when it has none (never acted on unless gateway.demo = true)
    generate_if_missing: bool = False
    #: the TrueType fonts embedded in issued PDFs; unset: DejaVu Sans where the system has it (Debian's
    #: fonts-dejavu-core), else the Bitstream Vera that reportlab ships (both free licences)
    font_file: str | None = None
    bold_font_file: str | None = None


class GatewayFile(Strict):
    gateway: GatewaySection
    storage: StorageSection = StorageSection()
    database: DatabaseSection = DatabaseSection()
    secret_key: SecretKeySection = SecretKeySection()
    plugins: PluginsSection = PluginsSection()
    audit: AuditSection = AuditSection()
    smtp: SmtpSection = SmtpSection()
    outbox: OutboxSection = OutboxSection()
    filing_limits: FilingLimitsSection = FilingLimitsSection()
    demo_identity: DemoIdentitySection = DemoIdentitySection()
    identity: IdentitySection = IdentitySection()
    documents: DocumentsSection = DocumentsSection()
    worker: WorkerSection = WorkerSection()
    logging: LoggingSection = LoggingSection()
    metrics: MetricsSection = MetricsSection()


class Address(Strict):
    street: str = Field(min_length=1)
    postcode: str = Field(pattern=r"^\d{5}$")
    city: str = Field(min_length=1)


class Contact(Strict):
    email: EmailStr
    phone: str = Field(pattern=r"^[0-9 +().-]{6,20}$")
    opening_hours: str | None = None


class ServiceRetention(Strict):
    """This commune's retention for one of its services (``[retention.services.<key>]``)."""

    #: days a decided (or withdrawn) request of this service is kept after the decision
    decided_requests_days: int = Field(ge=30, le=36500)


class Retention(Strict):
    """How long this commune keeps requests (empty: each service's own default).

    A service named under ``services`` keeps its own value; ``decided_requests_days``
    applies to every other service the commune enables. Neither may go below a
    service's legal minimum (checked against the plugins at start).
    """

    #: days a decided (or withdrawn) request and its attachments are kept after the decision, for every service
    #: not named under ``services``
    decided_requests_days: int | None = Field(default=None, ge=30, le=3650)
    #: days a draft nobody touched is kept
    draft_days: int | None = Field(default=None, ge=1, le=365)
    #: service key -> this commune's retention for that service
    services: dict[str, ServiceRetention] = Field(default_factory=dict)


class Privacy(Strict):
    """What citizens see of the commune's staff in their access log."""

    #: False (default): agents appear by role and commune only; True: by name too
    access_log_shows_agent_names: bool = False


class CommuneIdentity(Strict):
    """A commune's own identity providers: for its staff, and optionally one for its residents."""

    staff_provider: IdentityProviderSection | None = None
    citizen_provider: IdentityProviderSection | None = None


class LocalPluginSection(Strict):
    """A plugin this commune deploys from a folder (a Python package) rather than an installed distribution."""

    name: str = Field(pattern=r"^[a-z][a-z0-9-]{0,39}$")
    #: the package's folder, relative to the configuration folder
    path: str = Field(min_length=1)


class CommuneFile(Strict):
    slug: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=60)
    name: str = Field(min_length=1)
    insee: str = Field(pattern=r"^(\d{5}|2[AB]\d{3})$")
    department: str = Field(pattern=r"^(\d{2,3}|2[AB])$")
    seat: bool = False
    address: Address
    contact: Contact
    retention: Retention = Retention()
    privacy: Privacy = Privacy()
    #: what the periodic review of the audit log counts as worth a look (gateway/settings/audit_review.py)
    audit_review: AuditReviewSettings = AuditReviewSettings()
    identity: CommuneIdentity = CommuneIdentity()
    services: dict[str, dict[str, Any]] = Field(default_factory=dict)
    #: plugins offered by this commune only, loaded from folders (docs/local_plugins.md)
    local_plugins: tuple[LocalPluginSection, ...] = ()

    @field_validator("slug")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value in RESERVED_SLUGS:
            raise ValueError(f"'{value}' is reserved for the gateway's own pages")
        return value


#: First path segments the gateway uses itself; no commune may take them.
RESERVED_SLUGS = frozenset(
    {
        "api",
        "static",
        "healthz",
        "readyz",
        "openapi.json",
        "langue",
        "favicon.ico",
        "compte",
        "connexion",
        "deconnexion",
        "documents",
        "agents",
        "audit",
        "mon-compte",
        "mes-demandes",
        "demo",
        "demo-idp",
        "metrics",
    }
)


@dataclass(frozen=True)
class Settings:
    """The validated deployment, with paths resolved and the secret loaded."""

    config_dir: Path
    gateway: GatewaySection
    database_url: str
    data_dir: Path
    secret_key: bytes
    blocked_plugins: tuple[str, ...]
    communes: tuple[CommuneFile, ...]
    commune_files: dict[str, Path]
    audit: AuditSection = field(default_factory=AuditSection)
    smtp: SmtpSection = field(default_factory=SmtpSection)
    outbox: OutboxSection = field(default_factory=OutboxSection)
    filing_limits: FilingLimitsSection = field(default_factory=FilingLimitsSection)
    demo_identity: DemoIdentitySection = field(default_factory=DemoIdentitySection)
    identity: IdentitySection = field(default_factory=IdentitySection)
    documents: DocumentsSection = field(default_factory=DocumentsSection)
    worker: WorkerSection = field(default_factory=WorkerSection)
    database_lock_wait_seconds: float = 5.0
    logging: LoggingSection = field(default_factory=LoggingSection)
    metrics: MetricsSection = field(default_factory=MetricsSection)
    #: the bearer token /metrics asks for (None: /metrics answers 404)
    metrics_token: bytes | None = field(default=None, repr=False)
    database_start_retry_seconds: int = 0
    #: the audit log's name in a demo whose key already exists (the key's, see :mod:`gateway.settings.audit_origin`)
    demo_audit_origin: str | None = None

    @property
    def https(self) -> bool:
        return self.gateway.public_base_url.startswith("https://")

    @property
    def audit_origin(self) -> str:
        return self.audit.origin or self.demo_audit_origin or f"{urlsplit(self.gateway.public_base_url).netloc}/audit"

    def audit_path(self, relative: str) -> Path:
        return (self.config_dir / relative).resolve()


def config_dir_from_env() -> Path:
    return Path(os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG_DIR).resolve()


def load_settings(config_dir: Path | None = None, *, load_secret: bool = True) -> Settings:
    """Read and validate every file of a deployment folder."""
    config_dir = (config_dir or config_dir_from_env()).resolve()
    gateway_path = config_dir / "gateway.toml"
    if not gateway_path.is_file() and config_dir == DEFAULT_CONFIG_DIR.resolve():
        # installed from a wheel, the default names no checkout's config/: say how to name the deployment instead
        raise ConfigError(
            gateway_path, None, f"file not found: name the deployment's folder with --config DIR or ${CONFIG_ENV}"
        )
    raw = _read_toml(gateway_path)
    if os.environ.get(PUBLIC_BASE_URL_ENV):  # e.g. `make run PORT=8080` serving the demo elsewhere
        raw.setdefault("gateway", {})["public_base_url"] = os.environ[PUBLIC_BASE_URL_ENV]
    gateway_file = _validate(GatewayFile, raw, gateway_path)
    _check_demo_identity(gateway_file, gateway_path)
    _check_demo_witnesses(gateway_file, gateway_path)
    _check_worker(gateway_file, gateway_path)
    data_dir = (config_dir / gateway_file.storage.data_dir).resolve()
    database_url = _database_url(gateway_file, data_dir, gateway_path)
    communes, files = _load_communes(config_dir / "communes")
    _check_identity_providers(gateway_file, gateway_path, communes, files, check_secrets=load_secret)
    secret = _load_secret(gateway_file, config_dir, gateway_path) if load_secret else b""
    metrics_token = load_metrics_token(gateway_file.metrics, config_dir, gateway_path) if load_secret else None
    return Settings(
        config_dir=config_dir,
        gateway=gateway_file.gateway,
        database_url=database_url,
        database_lock_wait_seconds=gateway_file.database.lock_wait_seconds,
        database_start_retry_seconds=gateway_file.database.start_retry_seconds,
        demo_audit_origin=_demo_audit_origin(gateway_file, config_dir),
        data_dir=data_dir,
        secret_key=secret,
        blocked_plugins=gateway_file.plugins.blocked,
        communes=communes,
        commune_files=files,
        audit=gateway_file.audit,
        smtp=gateway_file.smtp,
        outbox=gateway_file.outbox,
        filing_limits=gateway_file.filing_limits,
        demo_identity=gateway_file.demo_identity,
        identity=gateway_file.identity,
        documents=gateway_file.documents,
        worker=gateway_file.worker,
        logging=gateway_file.logging,
        metrics=gateway_file.metrics,
        metrics_token=metrics_token,
    )


def _demo_audit_origin(gateway_file: GatewayFile, config_dir: Path) -> str | None:
    audit = gateway_file.audit
    if not (gateway_file.gateway.demo and audit.generate_if_missing and audit.signing_key_file) or audit.origin:
        return None
    if audit.signing_key_env and os.environ.get(audit.signing_key_env):
        return None  # the key from the environment signs, not the file
    return demo_key_origin((config_dir / audit.signing_key_file).resolve())


def _check_identity_providers(
    gateway_file: GatewayFile,
    gateway_path: Path,
    communes: tuple[CommuneFile, ...],
    files: dict[str, Path],
    *,
    check_secrets: bool,
) -> None:
    """Provider keys are unique across every file, and each provider's client secret is in the environment."""
    seen: dict[str, Path] = {}
    found: list[tuple[Path, str, IdentityProviderSection]] = [
        (gateway_path, f"identity.providers.{index}", provider)
        for index, provider in enumerate(gateway_file.identity.providers)
    ]
    for commune in communes:
        for name in ("staff_provider", "citizen_provider"):
            provider = getattr(commune.identity, name)
            if provider is not None:
                found.append((files[commune.slug], f"identity.{name}", provider))
    for path, key, provider in found:
        if provider.key in seen:
            raise ConfigError(
                path, f"{key}.key", f"duplicate provider key '{provider.key}', also in {seen[provider.key]}"
            )
        seen[provider.key] = path
        if check_secrets and not os.environ.get(provider.client_secret_env):
            raise ConfigError(
                path,
                f"{key}.client_secret_env",
                f"the environment variable {provider.client_secret_env} (the client secret) is not set",
            )


def _check_demo_witnesses(gateway_file: GatewayFile, gateway_path: Path) -> None:
    """A demo witness is run by the gateway itself, with a key it makes: only in a demo, on loopback."""
    for index, witness in enumerate(gateway_file.audit.witnesses):
        if witness.demo and not (gateway_file.gateway.demo and is_loopback(witness.url)):
            raise ConfigError(
                gateway_path,
                f"audit.witnesses.{index}.demo",
                "only allowed when gateway.demo = true and the witness's url is a loopback address",
            )


def _check_worker(gateway_file: GatewayFile, gateway_path: Path) -> None:
    """The worker must seal checkpoints at least as often as `audit verify` wants them fresh."""
    limit, job = gateway_file.audit.max_checkpoint_age_minutes, gateway_file.worker.schedule("checkpoint")
    if limit and job.enabled and job.interval_seconds > limit * 60:
        raise ConfigError(gateway_path, "worker.checkpoint.interval_seconds",
                          f"{job.interval_seconds} s exceeds audit.max_checkpoint_age_minutes ({limit} min): "
                          "verify would find the log stale between two runs")  # fmt: skip


def _check_demo_identity(gateway_file: GatewayFile, gateway_path: Path) -> None:
    """The demo identity provider signs anyone in as a fictitious person: never outside a demo on loopback."""
    if not gateway_file.demo_identity.enabled:
        return
    if not gateway_file.gateway.demo:
        raise ConfigError(gateway_path, "demo_identity.enabled", "only allowed when gateway.demo = true")
    if not is_loopback(gateway_file.gateway.public_base_url):
        raise ConfigError(
            gateway_path,
            "demo_identity.enabled",
            "the demo identity provider only runs when gateway.public_base_url is a loopback address",
        )


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(path, None, "file not found") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(path, None, f"malformed TOML: {error}") from None
    except UnicodeDecodeError:
        raise ConfigError(path, None, "not UTF-8 text") from None


def _validate(model: type[M], raw: dict[str, Any], path: Path) -> M:
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        raise config_error(error, path) from None


def _database_url(gateway_file: GatewayFile, data_dir: Path, gateway_path: Path) -> str:
    from_env = os.environ.get(DATABASE_URL_ENV)
    where = (DATABASE_URL_ENV, None) if from_env else (str(gateway_path), "database.url")
    return database_url(from_env or gateway_file.database.url, data_dir, where)


def _load_communes(folder: Path) -> tuple[tuple[CommuneFile, ...], dict[str, Path]]:
    if not folder.is_dir():
        raise ConfigError(folder, None, "folder not found: every deployment needs communes/<slug>.toml files")
    communes: list[CommuneFile] = []
    files: dict[str, Path] = {}
    for path in sorted(folder.glob("*.toml")):
        commune = _validate(CommuneFile, _read_toml(path), path)
        if commune.slug in files:
            raise ConfigError(
                path, "slug", f"duplicate slug '{commune.slug}', already used by {files[commune.slug].name}"
            )
        communes.append(commune)
        files[commune.slug] = path
    for slug, path in files.items():
        if slug != path.stem:
            raise ConfigError(path, "slug", f"'{slug}' must match the file name '{path.stem}'")
    if not communes:
        raise ConfigError(folder, None, "no commune file (communes/<slug>.toml)")
    return tuple(communes), files


def _load_secret(gateway_file: GatewayFile, config_dir: Path, gateway_path: Path) -> bytes:
    section = gateway_file.secret_key
    for key, generate in (
        ("secret_key.generate_if_missing", section.generate_if_missing),
        ("audit.generate_if_missing", gateway_file.audit.generate_if_missing),
    ):
        if generate and not gateway_file.gateway.demo:
            raise ConfigError(gateway_path, key, "only allowed when gateway.demo = true")
    if section.env and os.environ.get(section.env):
        secret = os.environ[section.env].encode()
    elif section.file:
        secret = _secret_from_file((config_dir / section.file).resolve(), section.generate_if_missing, gateway_path)
    else:
        raise ConfigError(
            gateway_path,
            "secret_key",
            f"no secret key: set {section.env or 'an environment variable'} or secret_key.file",
        )
    if len(secret) < 32:
        raise ConfigError(gateway_path, "secret_key", "the secret key must be at least 32 bytes long")
    return secret


def _make_secret_file(path: Path) -> None:
    """Write a new secret key at ``path`` whole, once, even when several workers start at the same moment.

    The key is written to a file of its own, then linked to ``path`` (which fails if
    ``path`` exists): a worker that loses the race reads the winner's complete key.
    """
    import secrets
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, written = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        os.link(written, path)
    except FileExistsError:
        pass  # another worker made it first: its key is the one
    finally:
        os.unlink(written)


def _secret_from_file(path: Path, generate: bool, gateway_path: Path) -> bytes:
    if not path.exists() and generate:
        _make_secret_file(path)
    try:
        return path.read_text(encoding="utf-8").strip().encode()
    except FileNotFoundError:
        raise ConfigError(gateway_path, "secret_key.file", f"{path} does not exist") from None
