"""The application factory: configuration files in, a Starlette app out.

Start-up is where bad configuration is caught: :func:`create_app` loads and
validates the files, loads the plugins, checks the database is migrated and
only then builds the app, so a gateway either starts right or does not start.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Lifespan, Receive, Scope, Send

from gateway.audit.log import AuditUnavailable
from gateway.db import Database
from gateway.group_commit import GroupCommit
from gateway.identity import passwords
from gateway.identity.access import AccessDenied, ReauthenticationRequired, SignInRequired
from gateway.identity.middleware import IdentityMiddleware
from gateway.identity.providers import form_action_sources
from gateway.local_plugins import check_local_plugins, load_local_plugins
from gateway.observability.metrics import mark_dead_workers
from gateway.plugins import PluginSet, get_plugin_manager
from gateway.registry import Registry, build_registry
from gateway.requests.attachments import UploadRefused
from gateway.requests.errors import RequestError, ServiceUnavailable
from gateway.requests.submission_keys import SubmissionKeyConflict, SubmissionKeyReused
from gateway.settings import ConfigError, Settings, load_settings
from gateway.web.access import access_denied_handler, reauthentication_handler, sign_in_required_handler
from gateway.web.body_limit import BodyLimitMiddleware
from gateway.web.csrf import back_channel_paths, csrf_middleware
from gateway.web.errors import (
    audit_unavailable_handler,
    database_unavailable_handler,
    http_exception_handler,
    request_error_handler,
    respond_error,
    server_error_handler,
    service_unavailable_handler,
    submission_key_conflict_handler,
    submission_key_reused_handler,
    upload_refused_handler,
)
from gateway.web.input_guard import InputGuardMiddleware
from gateway.web.metrics_endpoint import CachedFigures
from gateway.web.metrics_endpoint import route as metrics_route
from gateway.web.request_log import RequestLogMiddleware, RouteRecorder
from gateway.web.route_index import IndexedRouter
from gateway.web.routing import concrete_first
from gateway.web.security_headers import SecurityHeadersMiddleware
from gateway.web.templating import make_templates

logger = logging.getLogger(__name__)


def load_registry(settings: Settings, *, extra_plugins: Iterable[tuple[str, object]] = ()) -> Registry:
    """Plugins and configuration joined; raises ConfigError on any inconsistency."""
    local = load_local_plugins(settings)  # communes' plugins from folders, checked before they run
    try:
        plugins: PluginSet = get_plugin_manager(
            settings.blocked_plugins,
            demo=settings.gateway.demo,
            local_plugins=[(plugin.name, plugin.module) for plugin in local],
            extra_plugins=extra_plugins,
        )
    except ValueError as error:  # an unknown name in the blocklist
        raise ConfigError(settings.config_dir / "gateway.toml", "plugins.blocked", str(error)) from None
    registry = build_registry(settings, plugins)
    check_local_plugins(registry, local)
    return registry


def ordered_routes(registry: Registry) -> list[BaseRoute]:
    """Every plugin's routes (:attr:`Registry.plugin_routes`), core first; fixed paths before paths with parameters."""
    routes = [route for _plugin, plugin_routes in registry.plugin_routes for route in plugin_routes]
    return concrete_first(sorted(routes, key=lambda route: len(getattr(route, "param_convertors", {}))))


class Gateway(Starlette):
    """Starlette with the access log outside everything (error page included: it logs the status sent), and routes
    found through an index of their fixed segments (:class:`~gateway.web.route_index.IndexedRouter`)."""

    def __init__(self, *, routes: Sequence[BaseRoute], lifespan: Lifespan[Starlette], **options: Any) -> None:
        super().__init__(routes=routes, lifespan=lifespan, **options)
        self.router = IndexedRouter(routes, lifespan=lifespan)

    def build_middleware_stack(self) -> ASGIApp:
        return RequestLogMiddleware(super().build_middleware_stack(), communes=self.state.commune_slugs)


def create_app(
    config_dir: Path | None = None,
    *,
    settings: Settings | None = None,
    extra_plugins: Iterable[tuple[str, object]] = (),
    check_migrations: bool = True,
) -> Starlette:
    settings = settings or load_settings(config_dir)
    registry = load_registry(settings, extra_plugins=extra_plugins)
    db = Database(settings.database_url, lock_wait_seconds=settings.database_lock_wait_seconds)
    if check_migrations:
        try:
            db.require_migrated()
        except Exception:
            db.dispose()
            raise

    writer = GroupCommit(db)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        # the first unknown-account sign-in must not be the one that pays for the dummy hash
        threading.Thread(target=passwords.warm_up, name="guichet-warm-up", daemon=True).start()
        mark_dead_workers()  # a worker restarted in place of one that died: drop the dead one's live gauges
        yield
        writer.close()
        db.dispose()

    async def too_large(scope: Scope, receive: Receive, send: Send) -> None:
        await respond_error(413, scope, receive, send)

    routes = [metrics_route(), *ordered_routes(registry)]
    app = Gateway(
        routes=routes,
        middleware=[
            Middleware(SecurityHeadersMiddleware, https=settings.https, form_action=form_action_sources(settings)),
            Middleware(BodyLimitMiddleware, max_bytes=settings.gateway.max_body_bytes, too_large=too_large),
            Middleware(InputGuardMiddleware),  # what asgi-csrf would crash on, refused with a 400 first
            Middleware(
                csrf_middleware,
                secret=settings.secret_key,
                secure_cookie=settings.https,
                back_channel=back_channel_paths(routes),
            ),
            Middleware(IdentityMiddleware),
            Middleware(RouteRecorder),  # innermost: sees the scope the router fills in
        ],
        exception_handlers={
            HTTPException: http_exception_handler,
            ServiceUnavailable: service_unavailable_handler,
            OperationalError: database_unavailable_handler,  # locked past the wait, unreachable
            PoolTimeout: database_unavailable_handler,  # every connection busy
            SubmissionKeyReused: submission_key_reused_handler,
            SubmissionKeyConflict: submission_key_conflict_handler,
            AuditUnavailable: audit_unavailable_handler,
            SignInRequired: sign_in_required_handler,
            ReauthenticationRequired: reauthentication_handler,
            AccessDenied: access_denied_handler,
            RequestError: request_error_handler,
            UploadRefused: upload_refused_handler,
            Exception: server_error_handler,
        },
        lifespan=lifespan,
    )
    app.state.registry = registry
    app.state.db = db
    app.state.writer = writer
    app.state.templates = make_templates()
    app.state.commune_slugs = frozenset(registry.communes)  # the access log names only these
    app.state.metrics_figures = CachedFigures(db, settings.metrics.database_cache_seconds)
    return app


def create_app_from_env() -> Starlette:
    """Entry for ``uvicorn --factory`` (the CLI's ``serve`` uses it for several workers)."""
    return create_app()
