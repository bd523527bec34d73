"""`[[audit.witnesses]]`: who the gateway sends its checkpoints to, checked when the configuration loads."""

from __future__ import annotations

import pytest

from gateway.audit.cosignature import generate_cosigner
from gateway.audit.witnessing import witnesses_of
from gateway.settings import DEFAULT_CONFIG_DIR, ConfigError, load_settings
from gateway.testing import ConfigFolder

KEY = generate_cosigner("temoin.example").verifier().to_text()


def test_the_demo_names_two_witnesses_it_runs_itself() -> None:
    witnesses = load_settings(DEFAULT_CONFIG_DIR, load_secret=False).audit.witnesses
    assert [(witness.name, witness.demo) for witness in witnesses] == [
        ("temoin-venissieux", True),
        ("temoin-saint-chamond", True),
    ]


def test_a_witness_with_its_key_is_read(guichet_config: ConfigFolder) -> None:
    guichet_config.set_gateway(audit={"witnesses": [{"name": "cdg69", "url": "https://temoin.example/", "key": KEY}]})
    [witness] = witnesses_of(load_settings(guichet_config.path))
    assert (witness.url, witness.verifier.to_text()) == ("https://temoin.example", KEY)


@pytest.mark.parametrize(
    ("witness", "fault"),
    [
        ({"name": "cdg69", "url": "https://temoin.example"}, "one of them"),
        ({"name": "cdg69", "url": "ftp://temoin.example", "key": KEY}, "http"),
        ({"name": "cdg 69", "url": "https://temoin.example", "key": KEY}, "pattern"),
        ({"name": "cdg69", "url": "https://temoin.example", "key": "not a key"}, "pattern"),
        ({"name": "cdg69", "url": "https://temoin.example", "demo": True}, "loopback"),
    ],
    ids=["no-key", "not-http", "bad-name", "bad-key", "demo-elsewhere"],
)
def test_a_wrong_witness_stops_the_start(guichet_config: ConfigFolder, witness: dict[str, object], fault: str) -> None:
    guichet_config.set_gateway(audit={"witnesses": [witness]})
    with pytest.raises(ConfigError, match=fault):
        load_settings(guichet_config.path)


def test_two_witnesses_with_one_name_are_refused(guichet_config: ConfigFolder) -> None:
    witness = {"name": "cdg69", "url": "https://temoin.example", "key": KEY}
    guichet_config.set_gateway(audit={"witnesses": [witness, witness]})
    with pytest.raises(ConfigError, match="share a name"):
        load_settings(guichet_config.path)
