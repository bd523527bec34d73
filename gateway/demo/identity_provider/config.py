"""What the demo provider is configured with, and what its grants need of it.

Kept apart from :mod:`.server` so the grants can name what they use without
importing the server that registers them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from gateway.db import Database
from gateway.demo.identity_provider.clients import DemoClient
from gateway.demo.identity_provider.tokens import Signer


@dataclass(frozen=True)
class ProviderConfig:
    """Everything a provider needs that does not change while the gateway runs."""

    issuer: str
    signer: Signer
    clients: Mapping[str, DemoClient]
    #: the gateway's secret key, for pairwise subjects
    secret_key: bytes


class ProviderState(Protocol):
    """What a grant reads of the provider that runs it: its configuration and its store of codes."""

    config: ProviderConfig
    db: Database
