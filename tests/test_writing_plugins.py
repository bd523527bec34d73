"""docs/writing_plugins.md does what it says: its tutorial, followed step by step, and each hook's example.

The tutorial: the plugin ``guichet new-plugin composteur`` generates, changed as
the page says (its form, its tests), installed from its wheel (pip, not
editable, into a folder of its own), its tests run with pytest from its folder;
then the page's deployment is checked by ``guichet check``, migrated and
served. The hook examples (blocks headed ``<!-- hook: NAME -->``) are loaded
together as one plugin in a real gateway, and each does what its text says.
"""

from __future__ import annotations

import importlib.util
import os
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from types import ModuleType

import httpx
import pytest
from click.testing import CliRunner
from starlette.applications import Starlette

import gateway.hookspecs
from gateway.cli import main
from gateway.services import Localized, Transition
from gateway.testing import (
    BASE_URL,
    ActionNotAllowed,
    GuichetClient,
    agent_of,
    assert_audited,
    build_app,
    commune_of,
    file_request,
    sign_in_agent,
    skip_or_fail,
    start_draft,
    submit_request,
    take_transition,
    verified_citizen,
)

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "writing_plugins.md"
LEFT_OUT_ENV = ("PYTHONPATH", "GUICHET_CONFIG", "PYTEST_ADDOPTS", "PYTEST_PLUGINS")


def blocks(marker: str) -> dict[str, str]:
    """The page's code blocks headed ``<!-- marker: NAME -->``, by name."""
    pattern = re.compile(rf"^<!-- {marker}: (.+?) -->\n```\w+\n(.*?)^```", re.MULTILINE | re.DOTALL)
    return dict(pattern.findall(GUIDE.read_text(encoding="utf-8")))


def hook_examples() -> ModuleType:
    module = ModuleType("writing_plugins_examples")
    exec(compile("\n\n".join(blocks("hook").values()), str(GUIDE), "exec"), module.__dict__)
    return module


def run(command: list[str], cwd: Path, env: dict[str, str]) -> str:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout[-6000:]}\n{result.stderr[-6000:]}"
    return result.stdout


# the tutorial ---------------------------------------------------------------------------------------


def follow_the_tutorial(into: Path) -> Path:
    """Steps 2 and 4: the plugin generated, then changed as the page says; its folder."""
    result = CliRunner().invoke(main, ["new-plugin", "composteur", "--into", str(into)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    folder = into / "guichet-composteur"
    plugin = folder / "src" / "guichet_composteur" / "plugin.py"
    source = plugin.read_text(encoding="utf-8")
    replaced = re.sub(r"^@hookimpl\ndef guichet_service_form\(.*?(?=^@hookimpl)",
                      lambda _: blocks("tutorial")["replace guichet_service_form"] + "\n\n", source,
                      flags=re.MULTILINE | re.DOTALL)  # fmt: skip
    assert replaced != source
    bumped = replaced.replace("    retention_days=365,\n", "    retention_days=365,\n    form_version=2,\n")
    assert bumped != replaced
    plugin.write_text(bumped, encoding="utf-8")
    for name in ("test_pages.py", "test_flow.py"):
        test = folder / "tests" / name
        source = test.read_text(encoding="utf-8")
        test.write_text(source.replace("ANSWERS = {", 'ANSWERS = {"containers": ["bioseau"], '), encoding="utf-8")
    for relative, body in blocks("file").items():
        (folder / relative).write_text(body, encoding="utf-8")
    return folder


def test_the_page_has_its_tutorial_blocks_and_an_example_of_every_hook() -> None:
    assert set(blocks("tutorial")) == {"replace guichet_service_form"}
    assert set(blocks("file")) == {"tests/test_containers.py"}
    assert set(blocks("deployment")) == {"gateway.toml", "communes/ville-a.toml"}
    hooks = {name for name in vars(gateway.hookspecs) if name.startswith("guichet_")}
    assert set(blocks("hook")) == hooks


def test_the_tutorials_plugin_installs_passes_its_tests_and_is_served_by_the_deployment(tmp_path: Path) -> None:
    if importlib.util.find_spec("hatchling") is None:
        skip_or_fail("hatchling, which builds the plugin's wheel, is not installed (`make test` installs [dev])")
    folder = follow_the_tutorial(tmp_path)
    site = tmp_path / "site"
    env = {key: value for key, value in os.environ.items() if key not in LEFT_OUT_ENV} | {"PYTHONPATH": str(site)}
    run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--target",
         str(site), str(folder)], cwd=tmp_path, env=env)  # fmt: skip

    output = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=folder, env=env)
    written = sum(len(re.findall(r"^(?:async )?def test_", path.read_text(encoding="utf-8"), re.MULTILINE))
                  for path in (folder / "tests").glob("test_*.py"))  # fmt: skip
    passed = re.search(r"\b(\d+) passed", output)
    assert passed and int(passed.group(1)) >= written > 10, output

    deploy = tmp_path / "deploy"
    for relative, body in blocks("deployment").items():
        (deploy / relative).parent.mkdir(parents=True, exist_ok=True)
        (deploy / relative).write_text(body, encoding="utf-8")
    env |= {"GUICHET_SECRET_KEY": secrets.token_urlsafe(48), "GUICHET_CONFIG": str(deploy)}
    assert "configuration OK" in run([sys.executable, "-m", "gateway", "check"], cwd=tmp_path, env=env)
    run([sys.executable, "-m", "gateway", "db", "upgrade"], cwd=tmp_path, env=env)
    served = run([sys.executable, "-c", SERVE_ONE_PAGE, "/ville-a/composteur"], cwd=tmp_path, env=env)
    assert served.startswith("200 ") and "Composteur" in served


#: the app ``guichet serve`` serves, from $GUICHET_CONFIG, asked for one page (status, then the page)
SERVE_ONE_PAGE = """
import asyncio, sys, httpx
from gateway.app import create_app_from_env

async def main():
    app = create_app_from_env()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8000") as client:
        page = await client.get(sys.argv[1])
    print(page.status_code, page.text)

asyncio.run(main())
"""


# the hook examples ----------------------------------------------------------------------------------

ANSWERS = {"address": "1 rue des Lilas", "count": 2}


@pytest.fixture
def examples() -> ModuleType:
    return hook_examples()


@pytest.fixture
def app(guichet_config, guichet_database_url: str, examples: ModuleType) -> Iterator[Starlette]:
    guichet_config.set_gateway(database={"url": guichet_database_url})
    guichet_config.enable_service("givors", "bacs", max_bins=2)
    guichet_config.enable_service("ville-sans-camion", "bacs")
    built = build_app(guichet_config, extra_plugins=[("bins", examples)])
    yield built
    built.state.db.dispose()


def test_guichet_services_example_offers_its_service(app: Starlette) -> None:
    assert app.state.registry.is_available("bacs")
    assert app.state.registry.enabled_by("bacs") == ["givors", "ville-sans-camion"]


def test_guichet_service_form_and_validate_request_examples_refuse_more_bins_than_the_commune_allows(app) -> None:
    citizen = verified_citizen(app)
    draft = start_draft(app, citizen, "givors", "bacs")
    outcome = submit_request(app, citizen, draft.public_id, {**ANSWERS, "count": 3})
    assert [error.field for error in outcome.errors] == ["count"]


def test_guichet_prefill_form_example_prefills_a_verified_citizens_draft(app: Starlette) -> None:
    assert start_draft(app, verified_citizen(app), "givors", "bacs").data["count"] == 1


def test_guichet_request_submitted_example_sets_the_queue_line_and_an_audit_event(app: Starlette) -> None:
    filed = file_request(app, verified_citizen(app), "givors", "bacs", ANSWERS)
    assert filed.summary == "2 bac(s)"
    assert_audited(app, "bacs.bins-asked", commune="givors")


def test_guichet_reference_number_example_numbers_the_services_requests(app: Starlette) -> None:
    filed = file_request(app, verified_citizen(app), "givors", "bacs", ANSWERS)
    assert filed.reference == f"{commune_of(app, 'givors').insee}-BAC-{date.today().year}-0001"


def test_guichet_request_transition_example_notes_a_delivery(app: Starlette) -> None:
    filed = file_request(app, verified_citizen(app), "givors", "bacs", ANSWERS)
    delivered = take_transition(app, agent_of(app, "givors", "bacs"), "givors", filed.reference, "deliver")
    assert delivered.status == "delivered"
    assert_audited(app, "bacs.deliver-noted", commune="givors")


def test_guichet_request_transition_example_refuses_a_delivery_where_there_is_no_lorry(app: Starlette) -> None:
    filed = file_request(app, verified_citizen(app), "ville-sans-camion", "bacs", {**ANSWERS, "count": 1})
    agent = agent_of(app, "ville-sans-camion", "bacs")
    with pytest.raises(ActionNotAllowed) as refused:
        take_transition(app, agent, "ville-sans-camion", filed.reference, "deliver")
    assert refused.value.reason.fr == "Pas de livraison ici."


async def test_guichet_routes_example_serves_its_page(app: Starlette) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as client:
        answer = await client.get("/givors/bacs/tailles")
    assert answer.status_code == 200
    assert answer.json()["sizes"] == [120, 240]


def test_guichet_scan_attachment_example_refuses_the_eicar_test_file(examples: ModuleType) -> None:
    assert not examples.guichet_scan_attachment(data=b"%PDF-1.7 " + examples.EICAR).clean
    assert examples.guichet_scan_attachment(data=b"%PDF-1.7 a letter").clean


def test_guichet_request_shares_example_shares_only_the_number_of_bins_with_the_collecting_commune(
    examples: ModuleType,
) -> None:
    assert examples.guichet_request_shares(data={"count": 2}) is None
    [share] = examples.guichet_request_shares(data={"count": 2, "collected_by": "givors"})
    assert (share.commune, share.fields, share.documents, share.field) == ("givors", ("count",), (), "collected_by")


async def test_guichet_service_places_example_counts_each_round_against_its_capacity(app: Starlette) -> None:
    file_request(app, verified_citizen(app), "givors", "bacs", ANSWERS)
    async with GuichetClient(app) as client:
        await sign_in_agent(client, "givors", "bacs", level="reader")
        answer = await client.get("/api/v1/communes/givors/services/bacs/places")
    assert answer.status_code == 200, answer.text
    board = answer.json()
    [deliveries] = board["groups"]
    assert deliveries["label"]["en"] == "Deliveries"
    assert [(place["match"], place["capacity"], place["in_progress"]) for place in deliveries["places"]] == [
        ({"round": "nord"}, 40, 0),
        ({"round": "sud"}, 40, 0),
    ]


def test_guichet_transition_choices_example_offers_the_large_bin_for_more_than_one(examples: ModuleType) -> None:
    size = Transition("size", Localized("Choisir"), ("submitted",), "submitted", choice=Localized("Taille du bac"))
    assert [c.value for c in examples.guichet_transition_choices(data={"count": 1}, transition=size)] == ["120"]
    assert [c.value for c in examples.guichet_transition_choices(data={"count": 2}, transition=size)] == ["120", "240"]
    assert (
        examples.guichet_transition_choices(data={"count": 2}, transition=examples.BINS.workflow.transitions[0]) is None
    )


def test_guichet_demo_answers_example_offers_only_counts_the_commune_allows(app: Starlette) -> None:
    answers = app.state.registry.hooks.first("guichet_demo_answers", only="bins", settings=examples_settings(app))
    assert answers == [{"count": 1}, {"count": 2}]
    for answer in answers:  # each passes the service's checks
        file_request(app, verified_citizen(app), "givors", "bacs", {**ANSWERS, **answer})


def examples_settings(app: Starlette) -> object:
    return commune_of(app, "givors").services["bacs"]
