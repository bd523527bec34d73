"""Security headers on every kind of response, and pages that load nothing from another host."""

from __future__ import annotations

import re

import pytest
from starlette.applications import Starlette

from gateway.testing import GuichetClient
from gateway.web.security_headers import CONTENT_SECURITY_POLICY, security_headers

PATHS = ["/", "/venissieux", "/venissieux/contact", "/atlantis", "/api/v1/communes", "/api/v1/communes/atlantis"]


@pytest.mark.parametrize("path", PATHS)
async def test_every_response_carries_the_security_headers(guichet_client: GuichetClient, path: str) -> None:
    response = await guichet_client.get(path)
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["cache-control"] == "no-store"


async def test_policy_allows_no_script_and_no_other_host(guichet_client: GuichetClient) -> None:
    policy = (await guichet_client.get("/")).headers["content-security-policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'none'"
    assert "script-src" not in directives
    assert all("http" not in value for value in directives.values())


def test_https_deployment_adds_hsts_and_upgrades_requests() -> None:
    headers = security_headers(https=True)
    assert headers["Strict-Transport-Security"].startswith("max-age=")
    assert "upgrade-insecure-requests" in headers["Content-Security-Policy"]
    assert "Strict-Transport-Security" not in security_headers(https=False)


@pytest.mark.parametrize("path", ["/", "/venissieux", "/venissieux/contact"])
async def test_pages_reference_no_other_host(guichet_client: GuichetClient, path: str) -> None:
    html = (await guichet_client.get(path)).text
    references = re.findall(r'(?:src|href|action)="([^"]+)"', html)
    assert references
    external = [ref for ref in references if re.match(r"^(https?:)?//", ref)]
    assert external == []
    assert "<script" not in html


async def test_stylesheet_is_served_and_cacheable(guichet_client: GuichetClient) -> None:
    response = await guichet_client.get("/static/guichet.css")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=3600"
    assert "@import" not in response.text and "url(" not in response.text


async def test_csrf_cookie_is_same_site(guichet_client: GuichetClient) -> None:
    response = await guichet_client.get("/venissieux/contact")
    assert "SameSite=Lax" in response.headers["set-cookie"]


async def test_unexpected_error_is_an_apology_without_trace(guichet_app: Starlette) -> None:
    guichet_app.state.registry.communes = None  # any page touching the communes now raises
    async with GuichetClient(guichet_app, raise_app_exceptions=False) as client:
        response = await client.get("/")
    assert response.status_code == 500
    assert "Erreur inattendue" in response.text
    assert "Traceback" not in response.text and "NoneType" not in response.text
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
