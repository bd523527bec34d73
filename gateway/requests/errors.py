"""What can go wrong with a request, each with the words a person reads and the HTTP status it maps to.

Pages and the API turn these into an error page or an RFC 9457 problem
(:mod:`gateway.web.errors`); the service layer raises them before it writes
anything, or inside the transaction so nothing of the action is kept.
"""

from __future__ import annotations

from gateway.services import Localized


class RequestError(Exception):
    """Base: ``status`` is the HTTP status, ``reason`` the message shown."""

    status = 400
    problem_type = "urn:guichet:problem:request"
    #: seconds to wait before trying again, sent as ``Retry-After`` when set
    retry_after: int | None = None

    def __init__(self, reason: Localized) -> None:
        self.reason = reason
        super().__init__(reason.fr)


class RequestNotFound(RequestError):
    """No such request *for this person*: another citizen's or commune's request is not found either."""

    status = 404
    problem_type = "urn:guichet:problem:request-not-found"

    def __init__(self) -> None:
        super().__init__(
            Localized(
                "Cette demande n'existe pas, ou elle n'est pas accessible avec votre compte.",
                "This request does not exist, or your account cannot reach it.",
            )
        )


class ActionForbidden(RequestError):
    """The caller's role or grant does not allow this action."""

    status = 403
    problem_type = "urn:guichet:problem:action-forbidden"


class ActionNotAllowed(RequestError):
    """The request's state does not allow this action now (a transition from the wrong state, say)."""

    status = 409
    problem_type = "urn:guichet:problem:action-not-allowed"


class StaleRequest(RequestError):
    """Someone else changed the request since the caller loaded it: nothing was written."""

    status = 409
    problem_type = "urn:guichet:problem:stale-request"

    def __init__(self) -> None:
        super().__init__(
            Localized(
                "Quelqu'un d'autre vient de modifier cette demande. Rien n'a été enregistré : "
                "relisez son état actuel, votre saisie est conservée ci-dessous.",
                "Someone else has just changed this request. Nothing was saved: "
                "read its current state; what you typed is kept below.",
            )
        )


class InvalidInput(RequestError):
    """A comment, reason or message that does not fit (missing, too long)."""

    status = 422
    problem_type = "urn:guichet:problem:invalid-input"


class ServiceNotOffered(RequestError):
    """The commune does not offer this service online (or no such commune)."""

    status = 404
    problem_type = "urn:guichet:problem:service-not-offered"

    def __init__(self, commune: str, service: str) -> None:
        super().__init__(
            Localized(
                f"La commune « {commune} » ne propose pas la démarche « {service} » en ligne.",
                f"The commune '{commune}' does not offer the service '{service}' online.",
            )
        )


class DocumentUnreadable(RequestError):
    """A stored document's bytes are missing or changed since they were stored: they are not handed out (503).

    The fault is the gateway's, not the person's; the log names the stored file for the operators, the
    person reads that nothing else was touched.
    """

    status = 503
    problem_type = "urn:guichet:problem:document-unreadable"

    def __init__(self) -> None:
        super().__init__(
            Localized(
                "Ce document ne peut pas être lu : ses données enregistrées manquent ou ont changé depuis son "
                "dépôt. Rien d'autre n'a été modifié ; les administrateurs du guichet en sont avertis.",
                "This document cannot be read: its stored data is missing or has changed since it was filed. "
                "Nothing else was changed; the gateway's administrators have been alerted.",
            )
        )


class TooManyFilings(RequestError):
    """Too many filings without an account from one origin in the window: nothing was stored (429)."""

    status = 429
    problem_type = "urn:guichet:problem:too-many-filings"

    def __init__(self, retry_after: int) -> None:
        minutes = max(1, -(-retry_after // 60))
        plural = "s" if minutes > 1 else ""
        super().__init__(
            Localized(
                f"Trop de demandes ont été déposées depuis votre connexion en peu de temps. Votre demande n'a pas "
                f"été enregistrée : réessayez dans {minutes} minute{plural}, ou connectez-vous pour la déposer.",
                f"Too many requests were filed from your connection in a short time. Your request was not "
                f"recorded: try again in {minutes} minute{plural}, or sign in to file it.",
            )
        )
        self.retry_after = retry_after


class ServiceUnavailable(Exception):
    """The service's plugin failed to load or raised; nothing was stored (the pages and API answer 503)."""

    def __init__(self, service: str, plugin: str | None) -> None:
        self.service = service
        self.plugin = plugin
        super().__init__(f"service {service!r} is temporarily unavailable")
