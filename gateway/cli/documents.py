"""``guichet documents``: make and rotate a commune's signing key, and check an issued document offline.

``verify`` needs no gateway and no database: a school director (or anyone)
gives the QR code's text and the commune's published key — the JSON of
``/documents/cles.json``, saved or fetched from its address, or one key as
PEM or base64url — and learns whether the document's facts are as its
commune signed them. Revocation is only known online (the check page).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from gateway.cli.context import settings_of
from gateway.requests.signing_keys import CommuneKeys, PublicKey, b64url, public_key_from_text


@click.group()
def documents() -> None:
    """Documents services issue: commune signing keys, offline verification."""


@documents.command("keygen")
@click.option("--commune", required=True, help="The commune's slug.")
@click.pass_context
def documents_keygen(ctx: click.Context, commune: str) -> None:
    """Make a new signing key for COMMUNE: it signs from now on; older keys stay published for checking."""
    settings = settings_of(ctx)
    if commune not in {entry.slug for entry in settings.communes}:
        raise click.ClickException(f"no commune {commune!r}")
    key = CommuneKeys(settings).generate_key(commune)
    public = key.private.public_key().public_bytes_raw()
    click.echo(f"{commune}: new key {key.key_id} (public {b64url(public)})")


def _key_text(source: str) -> str:
    if source.startswith(("https://", "http://")):
        import httpx

        try:
            answer = httpx.get(source, timeout=10, follow_redirects=False)
            answer.raise_for_status()
        except httpx.HTTPError as error:
            raise click.ClickException(f"cannot fetch the keys at {source}: {error}") from None
        return answer.text
    try:
        return Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise click.ClickException(f"cannot read the key file {source}: {error}") from None


def _published_keys(text: str, commune: str, key_id: str) -> list[PublicKey]:
    """The keys a source holds: the published JSON (every commune's), or one bare key taken as the payload's."""

    stripped = text.strip()
    try:
        if stripped.startswith("{"):
            listed = json.loads(stripped)
            return [
                PublicKey(entry["slug"], key["key_id"], public_key_from_text(key["public_key"]))
                for entry in listed["communes"]
                for key in entry["keys"]
            ]
        return [PublicKey(commune, key_id, public_key_from_text(stripped))]
    except (ValueError, KeyError, TypeError) as error:
        raise click.ClickException(f"the key is not a published key list, a PEM or a base64url key: {error}") from None


@documents.command("verify")
@click.argument("payload")
@click.option("--key", "key_source", required=True, help="The commune's published keys: a file or an address.")
def documents_verify(payload: str, key_source: str) -> None:
    """Check a document's QR code text (PAYLOAD, or - to read it from standard input) against KEY, offline."""
    from gateway.requests.document_proof import PayloadError, read_payload, verify_payload

    text = sys.stdin.read() if payload == "-" else payload
    try:
        unchecked, _, _ = read_payload(text)
        keys = _published_keys(_key_text(key_source), unchecked.commune, unchecked.key_id)
        claims = verify_payload(text, keys)
    except PayloadError as error:
        raise click.ClickException(f"NOT VALID: {error}") from None
    click.echo(f"valid: document {claims.number} ({claims.kind}) issued by {claims.commune} on "
               f"{claims.issued_on.isoformat()}, key {claims.key_id}")  # fmt: skip
    for name, value in claims.fields.items():
        click.echo(f"  {name}: {value}")
    click.echo("revocation is not known offline: check the code on the commune's check page")
