from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from fedinode.config import ConfigError, load_config


def test_defaults_need_no_file() -> None:
    config = load_config(None, environ={})
    assert config.instance.domain == "" and config.federation.scheme == ""
    assert config.server.host == "127.0.0.1" and config.server.port == 8080
    assert config.database.url == "sqlite:///fedinode-data/fedinode.sqlite3"
    assert config.federation.mode == "open"
    assert config.policy.mode == "open" and config.policy.dry_run is False
    # no domain: a local instance whose URLs name where it is served
    assert config.local and config.domain == "127.0.0.1:8080" and config.scheme == "http"
    assert config.base_url == "http://127.0.0.1:8080"


@pytest.mark.parametrize(
    ("env", "base_url"),
    [
        ({"FEDINODE_SERVER__PORT": "9123"}, "http://127.0.0.1:9123"),
        ({"FEDINODE_SERVER__HOST": "0.0.0.0", "FEDINODE_SERVER__PORT": "9123"}, "http://localhost:9123"),
        ({"FEDINODE_SERVER__HOST": "::"}, "http://localhost:8080"),
        ({"FEDINODE_SERVER__HOST": "::1"}, "http://[::1]:8080"),
        ({"FEDINODE_SERVER__HOST": "Node.LAN", "FEDINODE_SERVER__PORT": "80"}, "http://node.lan"),
        # a configured domain keeps https, unless [federation] scheme says otherwise
        ({"FEDINODE_INSTANCE__DOMAIN": "a.example"}, "https://a.example"),
        ({"FEDINODE_INSTANCE__DOMAIN": "a.example:8443"}, "https://a.example:8443"),
        ({"FEDINODE_INSTANCE__DOMAIN": "a.example", "FEDINODE_FEDERATION__SCHEME": "http"}, "http://a.example"),
        ({"FEDINODE_FEDERATION__SCHEME": "https", "FEDINODE_SERVER__PORT": "443"}, "https://127.0.0.1"),
    ],
)
def test_base_url_with_and_without_a_domain(env: dict[str, str], base_url: str) -> None:
    config = load_config(None, environ=env)
    assert config.base_url == base_url
    assert config.local is ("FEDINODE_INSTANCE__DOMAIN" not in env)
    resolved = config.resolved()
    assert resolved.base_url == base_url and resolved.resolved() is resolved
    domain = base_url.split("://")[1]
    assert (resolved.instance.domain, resolved.federation.scheme) == (domain, base_url.split(":")[0])


def test_file_values(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        '[instance]\ndomain = "a.example"\ntitle = "A"\n[server]\nport = 9000\n'
        '[federation]\nmode = "allowlist"\n[[policy.domain_allows]]\ndomain = "b.example"\n'
        '[[policy.domain_blocks]]\ndomain = "*.spam.example"\nseverity = "suspend"\n'
        '[[policy.rules]]\nkind = "keyword"\npattern = "buy cheap"\naction = "reject"\n'
    )
    config = load_config(path, environ={})
    assert config.instance.domain == "a.example"
    assert config.server.port == 9000
    assert config.policy.mode == "allowlist"
    assert [a.domain for a in config.policy.domain_allows] == ["b.example"]
    assert config.policy.domain_blocks[0].domain == "*.spam.example"
    assert config.policy.rules[0].kind == "keyword"
    assert config.events.url == ""  # through the database unless Redis is named


def test_events_prefix_defaults_to_the_instance(tmp_path: Path) -> None:
    path = tmp_path / "f.toml"
    path.write_text('[instance]\ndomain = "a.example"\n[events]\nurl = "redis://r:6379/0"\n')
    config = load_config(path, environ={})
    assert (config.events.url, config.events_prefix) == ("redis://r:6379/0", "fedinode:a.example:")
    path.write_text('[events]\nurl = "redis://r:6379/0"\nprefix = "x:"\n')
    assert load_config(path, environ={}).events_prefix == "x:"
    assert config.base_url == "https://a.example"


def test_environment_overrides_file(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[server]\nport = 9000\n")
    env = {
        "FEDINODE_SERVER__PORT": "9100",
        "FEDINODE_FEDERATION__ALLOW_PRIVATE_ADDRESSES": "true",
        "FEDINODE_INSTANCE__DOMAIN": "b.example:8443",
        "FEDINODE_POLICY__DRY_RUN": "yes",
    }
    config = load_config(path, environ=env)
    assert config.server.port == 9100
    assert config.federation.allow_private_addresses is True
    assert config.instance.domain == "b.example:8443"
    assert config.policy.dry_run is True


@pytest.mark.parametrize(
    ("toml", "env", "key"),
    [
        ("[server]\nprot = 1\n", {}, "server.prot"),
        ("[server]\nport = \"x\"\n", {}, "server.port"),
        ("[server]\nport = 70000\n", {}, "server.port"),
        ("[federation]\nmode = \"sometimes\"\n", {}, "federation.mode"),
        ("[federation]\nscheme = \"gopher\"\n", {}, "federation.scheme"),
        ("[bogus]\nx = 1\n", {}, "bogus"),
        ("", {"FEDINODE_SERVER__PORT": "eighty"}, "server.port"),
        ("", {"FEDINODE_SERVER__NOPE": "1"}, "server.nope"),
        ("[database]\nurl = \"mysql://x\"\n", {}, "database.url"),
        ("[database]\npool_size = 0\n", {}, "database.pool_size"),
        ("[instance]\ndomain = \"Has Space\"\n", {}, "instance.domain"),
        ("[policy]\ndry_run = \"no\"\n", {}, "policy.dry_run"),
        ("[[policy.rules]]\nkind = \"keyword\"\npattern = \"/(/\"\naction = \"reject\"\n", {}, "policy.rules[0].pattern"),
        ("[[policy.domain_blocks]]\ndomain = \"x.example\"\nseverity = \"obliterate\"\n", {}, "policy.domain_blocks[0].severity"),
        ("[queue]\ndelivery_lease_seconds = 0\n", {}, "queue.delivery_lease_seconds"),
        ("[queue]\ninbox_lease_seconds = \"1m\"\n", {}, "queue.inbox_lease_seconds"),
        ("", {"FEDINODE_QUEUE__INBOX_LEASE_SECONDS": "999999"}, "queue.inbox_lease_seconds"),
        ("[queue]\nworker_name = \"web 1\"\n", {}, "queue.worker_name"),
        ("[queue]\nworker_name = \"host#slot0\"\n", {}, "queue.worker_name"),
        ("[media]\naudio_format = \"wav\"\n", {}, "media.audio_format"),
        ("[media]\nvideo_max_seconds = 0\n", {}, "media.video_max_seconds"),
        ("[media]\nvideo_max_dimension = 8\n", {}, "media.video_max_dimension"),
        ("[media]\ntranscode_timeout_seconds = 0\n", {}, "media.transcode_timeout_seconds"),
        ("[media]\nffmpeg = \" \"\n", {}, "media.ffmpeg"),
        ("", {"FEDINODE_MEDIA__VIDEO_MAX_BYTES": "lots"}, "media.video_max_bytes"),
        ("[events]\nurl = \"amqp://x\"\n", {}, "events.url"),
        ("[events]\nchannel = \"x\"\n", {}, "events.channel"),
    ],
)
def test_bad_config_names_the_key(tmp_path: Path, toml: str, env: dict[str, str], key: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError) as info:
        load_config(path, environ=env)
    assert str(info.value).startswith(key + ":"), str(info.value)


def test_bad_config_exits_2_naming_the_key(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[server]\nprot = 8080\n")
    result = subprocess.run(
        [sys.executable, "-m", "fedinode.cli", "--config", str(path), "policy", "check"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "server.prot" in lines[0], result.stderr


def test_missing_config_file_is_a_usage_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "fedinode.cli", "--config", str(tmp_path / "none.toml"), "migrate"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert "no such file" in result.stderr


def test_deploy_example_config_is_valid() -> None:
    example = Path(__file__).parents[2] / "deploy" / "fedinode.example.toml"
    config = load_config(example, environ={})
    assert config.instance.domain == "social.example.org"
    assert config.policy.domain_blocks[0].domain == "*.spam.example"
    assert config.policy.rules[0].kind == "keyword"


def test_every_federation_key_reaches_the_protocol_layer() -> None:
    import dataclasses

    from activitypub.settings import FederationSettings
    from fedinode.app import federation_settings
    from fedinode.config import FederationConfig

    settings_fields = {f.name for f in dataclasses.fields(FederationSettings)}
    # `mode` is the policy's (it reaches activitypub through the PolicyGate)
    assert {f.name for f in dataclasses.fields(FederationConfig)} - settings_fields == {"mode"}
    env = {"FEDINODE_FEDERATION__DELIVERY_MAX_DAYS": "3", "FEDINODE_FEDERATION__SCHEME": "http",
           "FEDINODE_SERVER__MAX_BODY_BYTES": "4096", "FEDINODE_INSTANCE__DOMAIN": "a.example"}
    settings = federation_settings(load_config(None, environ=env))
    assert (settings.delivery_max_days, settings.scheme, settings.max_inbox_bytes) == (3, "http", 4096)
    assert settings.base_url == "http://a.example"
    local = federation_settings(load_config(None, environ={"FEDINODE_SERVER__PORT": "9123"}))
    assert (local.domain, local.scheme) == ("127.0.0.1:9123", "http")


def test_queue_leases_are_settings(tmp_path: Path) -> None:
    defaults = load_config(None, environ={}).queue
    assert (defaults.inbox_lease_seconds, defaults.delivery_lease_seconds) == (60, 300)
    assert defaults.worker_name == ""
    path = tmp_path / "c.toml"
    path.write_text('[queue]\ninbox_lease_seconds = 30\nworker_name = "worker-1"\n')
    config = load_config(path, environ={"FEDINODE_QUEUE__DELIVERY_LEASE_SECONDS": "120"})
    assert (config.queue.inbox_lease_seconds, config.queue.delivery_lease_seconds) == (30, 120)
    assert config.queue.worker_name == "worker-1"
