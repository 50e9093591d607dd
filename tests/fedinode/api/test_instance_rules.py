"""Instance rules ([[instance.rules]]), who may read the list of moderated servers, and the
NodeInfo metadata that names the federation mode and the subscribed lists."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from api_helpers import Api

from fedinode.app import create_app
from fedinode.config import Config, ConfigError, load_config
from policy.settings import settings_from_mapping

RULES_TOML = """
[instance]
rules = []
[[instance.rules]]
text = "Be kind to each other"
hint = "No harassment, no dogpiling"
[[instance.rules]]
text = "قوانین را رعایت کنید"
"""


def _with(config: Config, **instance: Any) -> Config:
    return dataclasses.replace(config, instance=dataclasses.replace(config.instance, **instance))


def test_rules_are_tables_with_text_and_hint(tmp_path: Path) -> None:
    path = tmp_path / "f.toml"
    path.write_text(RULES_TOML.replace("rules = []\n", ""), encoding="utf-8")
    rules = load_config(path, environ={}).instance.rules
    assert [(r.text, r.hint) for r in rules] == [
        ("Be kind to each other", "No harassment, no dogpiling"),
        ("قوانین را رعایت کنید", ""),
    ]
    old = tmp_path / "old.toml"
    old.write_text('[instance]\nrules = ["Be kind."]\n', encoding="utf-8")
    assert [r.text for r in load_config(old, environ={}).instance.rules] == ["Be kind."]


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ('[[instance.rules]]\nhint = "no text"\n', "instance.rules[0].text"),
        ('[[instance.rules]]\ntext = "x"\nseverity = 1\n', "instance.rules[0].severity"),
        ('[[instance.rules]]\ntext = "x"\nhint = 3\n', "instance.rules[0].hint"),
        ('[instance]\nshow_domain_blocks = "friends"\n', "instance.show_domain_blocks"),
    ],
)
def test_bad_rules_name_the_key(tmp_path: Path, body: str, key: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    assert info.value.key == key


async def test_rules_endpoint_and_instance_entities(
    aiohttp_client: Any, config: Config, tmp_path: Path
) -> None:
    path = tmp_path / "f.toml"
    path.write_text(RULES_TOML.replace("rules = []\n", ""), encoding="utf-8")
    rules = load_config(path, environ={}).instance.rules
    client = await aiohttp_client(create_app(_with(config, rules=rules)))
    expected = [
        {"id": "1", "text": "Be kind to each other", "hint": "No harassment, no dogpiling"},
        {"id": "2", "text": "قوانین را رعایت کنید", "hint": ""},
    ]
    for path_ in ("/api/v1/instance/rules", "/api/v1/instance/rules/"):
        resp = await client.get(path_)
        assert resp.status == 200
        assert await resp.json() == expected
    assert (await (await client.get("/api/v2/instance")).json())["rules"] == expected
    assert (await (await client.get("/api/v1/instance")).json())["rules"] == expected
    page = await (await client.get("/")).text()
    assert "No harassment, no dogpiling" in page


def _blocking(config: Config) -> Config:
    policy = settings_from_mapping(
        "open",
        {
            "domain_blocks": [
                {"domain": "spam.example", "severity": "suspend", "public_comment": "spam"}
            ]
        },
    )
    return config.with_policy(policy)


@pytest.mark.parametrize(
    ("show", "rationale", "anon", "signed_in"),
    [
        ("all", "all", (200, "spam"), (200, "spam")),
        ("all", "users", (200, None), (200, "spam")),
        ("all", "disabled", (200, None), (200, None)),
        ("users", "all", (404, None), (200, "spam")),
        ("disabled", "all", (404, None), (404, None)),
    ],
)
async def test_moderated_servers_shown_as_configured(
    aiohttp_client: Any,
    config: Config,
    show: str,
    rationale: str,
    anon: tuple[int, str | None],
    signed_in: tuple[int, str | None],
) -> None:
    configured = _with(_blocking(config), show_domain_blocks=show,
                       show_domain_blocks_rationale=rationale)  # fmt: skip
    api = Api(client=await aiohttp_client(create_app(configured)), config=configured)
    alice = await api.user("alice")
    for who, (status, comment) in (("anon", anon), ("alice", signed_in)):
        if who == "anon":
            resp = await api.client.get("/api/v1/instance/domain_blocks")
        else:
            resp = await alice.get("/api/v1/instance/domain_blocks")
        body = await resp.json()
        assert resp.status == status, (who, body)
        if status == 200:
            assert [(b["domain"], b["severity"], b["comment"]) for b in body] == [
                ("spam.example", "suspend", comment)
            ], who


async def test_nodeinfo_names_mode_first_contact_and_subscriptions(
    aiohttp_client: Any, config: Config
) -> None:
    configured = dataclasses.replace(
        config,
        federation=dataclasses.replace(config.federation, first_contact="quarantine"),
        policy=settings_from_mapping(
            "allowlist",
            {"subscriptions": [{"url": "https://a.example/policy/list.json", "mode": "review"}]},
        ),
    )
    client = await aiohttp_client(create_app(configured))
    for version in ("2.0", "2.1"):
        doc = await (await client.get(f"/nodeinfo/{version}")).json()
        federation = doc["metadata"]["federation"]
        assert federation["mode"] == "allowlist"
        assert federation["first_contact"] == "quarantine"
        assert federation["published_list"] == "https://local.test/policy/list.json"
        assert federation["subscriptions"] == [
            {"url": "https://a.example/policy/list.json", "mode": "review"}
        ]
