"""Find the commune and service a URL names, or answer 404 in the visitor's terms."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import HTTPConnection, Request

from gateway.communes import Commune
from gateway.db import Database
from gateway.registry import Registry
from gateway.services import Localized
from gateway.web.errors import PageError


def registry_of(request: Request) -> Registry:
    registry: Registry = request.app.state.registry
    return registry


def database_of(connection: HTTPConnection) -> Database:
    """The application's database, typed (``app.state`` is not): ``await database_of(request).run(work)``."""
    database: Database = connection.app.state.db
    return database


def commune_or_404(request: Request) -> Commune:
    slug = request.path_params["commune"]
    commune = registry_of(request).commune(slug)
    if commune is None:
        raise PageError(
            404,
            Localized(
                f"Aucune commune « {slug} » ne fait partie du syndicat. Choisissez-la dans la liste de l'accueil.",
                f"No commune '{slug}' belongs to the syndicate. Choose it from the list on the home page.",
            ),
        )
    return commune


def enabled_service_or_404(request: Request, commune: Commune) -> str:
    key: str = request.path_params["service"]
    if not commune.enables(key):
        raise PageError(
            404,
            Localized(
                f"La commune de {commune.name} ne propose pas la démarche « {key} » en ligne.",
                f"{commune.name} does not offer the service '{key}' online.",
            ),
        )
    return key


def request_origin(request: Request) -> str:
    """Where a request came from, for the audit log: the door (page or API) and the client address."""
    door = "api" if request.url.path.startswith("/api/") else "web"
    host = request.client.host if request.client else "unknown"
    return f"{door} {host}"


def local_path(target: object, default: str = "/") -> str:
    """A path of this site to redirect to, or ``default``: never another host (no open redirect)."""
    if not isinstance(target, str) or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else default


def next_path(request: Request, default: str = "/") -> str:
    """Where to go after signing in: the ``suite`` query parameter when it is a path of this site."""
    return local_path(request.query_params.get("suite"), default)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
