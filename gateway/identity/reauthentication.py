"""Whether a provider really authenticated the person again, for a staff re-authentication.

A signed-in agent who came through an identity provider confirms their identity there before a sensitive
act (:class:`gateway.identity.oidc_flows.Flow` with ``reauth``: ``prompt=login`` and ``max_age=0``). The ID token
has passed every check of a sign-in; this adds the one a re-authentication needs. Whether it is the same
person as the session's is decided with the account, in :func:`gateway.identity.federation.reauthenticate_staff`.
"""

from __future__ import annotations

import time

from gateway.identity.oidc import LEEWAY_SECONDS, Identity, LoginFailure
from gateway.identity.oidc_flows import Flow
from gateway.services import Localized

NOT_AGAIN = Localized(
    "Le fournisseur d'identité n'a pas confirmé que vous veniez de vous identifier à nouveau. Rien n'a été "
    "modifié ; recommencez, et identifiez-vous auprès de lui quand il vous le demande.",
    "The identity provider did not confirm that you have just signed in again. Nothing was changed; "
    "try again, and sign in with it when it asks you to.",
)


def check_reauthentication(identity: Identity, flow: Flow, *, now: float | None = None) -> None:
    """A re-authentication really happened after the flow started: the ID token's ``auth_time`` says so.

    ``prompt=login`` is only a request the browser carries and could strip; ``max_age`` obliges the provider to
    send ``auth_time`` (OpenID Connect Core §3.1.2.1), so it is required here, no older than the flow (less the
    clock difference tolerated) and not in the future.
    """
    now = time.time() if now is None else now
    if identity.auth_time is None:
        raise LoginFailure("auth-time-missing", NOT_AGAIN)
    if identity.auth_time < flow.started - LEEWAY_SECONDS or identity.auth_time > now + LEEWAY_SECONDS:
        raise LoginFailure("auth-time-stale", NOT_AGAIN)
