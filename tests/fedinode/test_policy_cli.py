"""``fedinode policy …`` and SIGHUP reload, run as an admin runs them: in a subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from test_cli import fedinode, free_port, get_json, wait_for

from storage.accounts import NewAccount
from storage.policy_rows import NewDecision
from storage.statuses import NewStatus
from storage.store import Store

CONTRACT_FIELDS = {
    "time",
    "direction",
    "peer",
    "activity_id",
    "activity_type",
    "rule",
    "action",
    "enforced",
}

POLICY = """
[policy]
[[policy.domain_blocks]]
domain = "*.spam.example"
severity = "suspend"
public_comment = "spam network"
private_comment = "ticket 12"

[[policy.rules]]
kind = "keyword"
pattern = "buy cheap"
name = "no-spam"

[[policy.rules]]
kind = "hashtag"
tags = ["nsfw"]
action = "sensitive"
"""


def write_config(
    path: Path, database_url: str, port: int, extra: str = "", mode: str = "open"
) -> Path:
    path.write_text(
        f'[instance]\ndomain = "127.0.0.1:{port}"\n'
        f'[server]\nport = {port}\n[database]\nurl = "{database_url}"\n'
        f'[federation]\nscheme = "http"\nmode = "{mode}"\n' + extra
    )
    return path


@pytest.fixture
def config_path(tmp_path: Path, database_url: str) -> Path:
    return write_config(tmp_path / "fedinode.toml", database_url, free_port(), POLICY)


def policy(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return fedinode("--config", str(config), "--log-level", "WARNING", "policy", *args)


# -- check -------------------------------------------------------------------------------


async def test_check_prints_file_and_database_rules(config_path: Path, database_url: str) -> None:
    store = await Store.open(database_url)
    try:
        await store.policy.create_domain_block(
            "db.example", severity="silence", public_comment="noisy", obfuscate=True
        )
        await store.policy.create_domain_allow("friend.example")
    finally:
        await store.close()
    done = policy(config_path, "check")
    assert done.returncode == 0, done.stderr
    effective = json.loads(done.stdout)
    assert effective["mode"] == "open"
    blocks = {b["domain"]: b for b in effective["domain_blocks"]}
    assert blocks["*.spam.example"]["private_comment"] == "ticket 12"
    assert blocks["db.example"]["severity"] == "silence"
    assert blocks["db.example"]["obfuscate"] is True  # private view: real domain, flag shown
    assert [a["domain"] for a in effective["domain_allows"]] == ["friend.example"]
    assert [r["name"] for r in effective["rules"]] == ["no-spam", "hashtag[1]"]
    assert effective["rules"][0]["options"]["pattern"] == ["buy cheap"]
    assert "policy ok: mode open, 2 domain block(s), 1 allow(s), 2 rule(s)" in done.stderr
    assert "from the database" in done.stderr


@pytest.mark.parametrize(
    ("bad", "key"),
    [
        ('[[policy.rules]]\nkind = "keyword"\npattern = "/[a/"\n', "policy.rules[0].pattern"),
        ('[[policy.rules]]\nkind = "telepathy"\n', "policy.rules[0].kind"),
        ('[[policy.domain_blocks]]\ndomain = "x.example"\nseverity = "nuke"\n',
         "policy.domain_blocks[0].severity"),
        ('[[policy.domain_blocks]]\ndomain = "not a domain"\n', "policy.domain_blocks[0].domain"),
        ("dry_run = 3\n", "policy.dry_run"),
        ("audit_retention_days = 0\n", "policy.audit_retention_days"),
    ],
)  # fmt: skip
def test_check_bad_rule_exits_2_naming_the_key(tmp_path: Path, bad: str, key: str) -> None:
    config = write_config(
        tmp_path / "bad.toml", f"sqlite:///{tmp_path}/db.sqlite3", free_port(), "[policy]\n" + bad
    )
    done = policy(config, "check")
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and key in lines[0], done.stderr
    assert done.stdout == ""


def test_check_bad_mode_exits_2(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "c.toml", f"sqlite:///{tmp_path}/db.sqlite3", free_port(), mode="walled"
    )
    done = policy(config, "check")
    assert done.returncode == 2 and "federation.mode" in done.stderr


def test_check_without_database_shows_the_file_and_creates_nothing(tmp_path: Path) -> None:
    db = tmp_path / "none" / "db.sqlite3"
    config = write_config(tmp_path / "c.toml", f"sqlite:///{db}", free_port(), POLICY)
    done = policy(config, "check")
    assert done.returncode == 0, done.stderr
    assert "the file's policy only" in done.stderr
    assert not db.exists()
    unreachable = write_config(
        tmp_path / "u.toml", "postgresql://nobody@127.0.0.1:1/x", free_port(), POLICY
    )
    done = policy(unreachable, "check")
    assert done.returncode == 0, done.stderr
    assert "database not reachable" in done.stderr
    assert len(json.loads(done.stdout)["domain_blocks"]) == 1


# -- explain -----------------------------------------------------------------------------


def test_explain_prints_each_rules_verdict(config_path: Path, tmp_path: Path) -> None:
    activity = tmp_path / "activity.json"
    activity.write_text(
        json.dumps(
            {
                "id": "https://fine.example/a/1",
                "type": "Create",
                "actor": "https://fine.example/users/x",
                "object": {
                    "type": "Note",
                    "content": "<p>Buy <b>cheap</b> watches #nsfw</p>",
                    "tag": [{"type": "Hashtag", "name": "#nsfw"}],
                },
            }
        )
    )
    done = policy(config_path, "explain", str(activity), "--from", "fine.example")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "host fine.example: allowed"
    assert any(line.startswith("rule=no-spam verdict=reject") for line in lines), lines
    assert any(
        line.startswith("rule=hashtag[1] verdict=rewrite action=sensitive") for line in lines
    )
    assert lines[-1] == "final: reject"

    as_json = json.loads(
        policy(config_path, "explain", str(activity), "--from", "fine.example", "--json").stdout
    )
    assert as_json["final"] == "reject"
    assert [r["rule"] for r in as_json["rules"]][-2:] == ["no-spam", "hashtag[1]"]
    assert as_json["decisions"][0]["rule"] == "no-spam"

    # a suspended sender: the host check says so, by which rule
    done = policy(config_path, "explain", str(activity), "--from", "a.spam.example")
    assert done.stdout.splitlines()[0].startswith(
        "host a.spam.example: refused by domain_block:*.spam.example"
    )
    assert done.stdout.splitlines()[-1] == "final: reject"


def test_explain_usage_errors(config_path: Path, tmp_path: Path) -> None:
    missing = policy(config_path, "explain", str(tmp_path / "nope.json"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    (tmp_path / "bad.json").write_text("{not json")
    bad = policy(config_path, "explain", str(tmp_path / "bad.json"))
    assert bad.returncode == 2 and "not JSON" in bad.stderr
    (tmp_path / "list.json").write_text("[]")
    assert policy(config_path, "explain", str(tmp_path / "list.json")).returncode == 2


# -- log ---------------------------------------------------------------------------------


async def test_log_json_lines_carry_the_contract_fields(
    config_path: Path, database_url: str
) -> None:
    store = await Store.open(database_url)
    try:
        now = int(time.time() * 1000)
        await store.policy.record_decisions(
            [
                NewDecision(now - 2, "inbound", "spam.example", "https://spam.example/u", "https://spam.example/1",
                            "Create", "no-spam", "reject", True, "keyword 'buy cheap'"),
                NewDecision(now - 1, "outbound", "x.spam.example", None, None, "", "domain_block:*.spam.example",
                            "reject", True, "suspended"),
                NewDecision(now, "fetch", "dry.example", None, "https://dry.example/o", "Note", "mode:allowlist",
                            "reject", False, "not allowed"),
            ]
        )  # fmt: skip
    finally:
        await store.close()
    done = policy(config_path, "log", "--json")
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(records) == 3
    for record in records:
        assert CONTRACT_FIELDS <= set(record), record
        assert record["direction"] in ("inbound", "outbound", "fetch")
        assert isinstance(record["enforced"], bool)
    assert [r["rule"] for r in records] == [
        "mode:allowlist",
        "domain_block:*.spam.example",
        "no-spam",
    ]
    assert records[0]["enforced"] is False and records[2]["activity_type"] == "Create"
    assert records[2]["time"].endswith("+00:00")

    limited = policy(config_path, "log", "--json", "--limit", "1")
    assert len(limited.stdout.splitlines()) == 1

    def rules(*args: str) -> list[str]:
        return [
            json.loads(line)["rule"]
            for line in policy(config_path, "log", "--json", *args).stdout.splitlines()
        ]

    assert rules("--direction", "outbound") == ["domain_block:*.spam.example"]
    assert rules("--peer", "SPAM.example") == ["no-spam"]
    assert rules("--rule", "mode:allowlist") == ["mode:allowlist"]
    assert policy(config_path, "log", "--direction", "sideways").returncode == 2
    text = policy(config_path, "log")
    assert text.returncode == 0
    assert "no-spam → reject (keyword 'buy cheap')" in text.stdout
    assert "[dry run]" in text.stdout.splitlines()[0]


# -- impact ------------------------------------------------------------------------------


async def test_impact_counts_what_a_suspend_would_sever(
    config_path: Path, database_url: str
) -> None:
    store = await Store.open(database_url)
    try:
        local_ids = []
        for name in ("alice", "bob"):
            _, account = await store.users.create(
                NewAccount(username=name, domain="", uri=f"http://local.test/users/{name}"),
                email=f"{name}@local.test", password_hash="x",
            )  # fmt: skip
            local_ids.append(account.id)
        targets = {}
        for name, domain in (
            ("e1", "evil.example"),
            ("e2", "a.evil.example"),
            ("n", "nice.example"),
        ):
            acct = await store.accounts.create(
                NewAccount(username=name, domain=domain, uri=f"https://{domain}/users/{name}")
            )
            targets[name] = acct.id
        await store.relationships.follow(local_ids[0], targets["e1"])
        await store.relationships.follow(targets["e2"], local_ids[1])
        await store.relationships.follow(local_ids[0], targets["n"])
        await store.statuses.create(
            NewStatus(
                account_id=targets["e1"], local=False, uri="https://evil.example/s/1", content="x"
            )
        )
    finally:
        await store.close()
    done = policy(config_path, "impact", "*.evil.example")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "domain": "*.evil.example",
        "severity": "suspend",
        "domains": ["a.evil.example", "evil.example"],
        "follows_severed": 1,
        "followers_severed": 1,
        "follow_requests_dropped": 0,
        "cached_statuses": 1,
    }
    exact = json.loads(policy(config_path, "impact", "evil.example").stdout)
    assert exact["domains"] == ["evil.example"] and exact["followers_severed"] == 0
    bad = policy(config_path, "impact", "not a domain")
    assert bad.returncode == 2 and bad.stderr.startswith("fedinode: domain:")


# -- SIGHUP ------------------------------------------------------------------------------


def _until(check: Callable[[], bool], proc: subprocess.Popen[str], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "server exited"
        if check():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_sighup_reloads_the_policy_and_keeps_it_on_a_bad_file(
    tmp_path: Path, database_url: str
) -> None:
    port = free_port()
    config = write_config(tmp_path / "fedinode.toml", database_url, port)
    proc = subprocess.Popen(
        [sys.executable, "-m", "fedinode.cli", "--config", str(config), "serve"],
        env=os.environ.copy(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base + "/api/v1/instance", proc)
        assert get_json(base + "/api/v1/instance/domain_blocks") == []

        def public() -> Any:
            return get_json(base + "/api/v1/instance/domain_blocks")

        write_config(
            config, database_url, port,
            '[policy]\n[[policy.domain_blocks]]\ndomain = "spam.example"\nseverity = "suspend"\n'
            'public_comment = "spam"\n[[policy.rules]]\nkind = "keyword"\npattern = "casino"\n',
        )  # fmt: skip
        proc.send_signal(signal.SIGHUP)
        _until(lambda: public() != [], proc)
        assert [(b["domain"], b["severity"], b["comment"]) for b in public()] == [
            ("spam.example", "suspend", "spam")
        ]
        federation = get_json(base + "/nodeinfo/2.1")["metadata"]["federation"]
        assert federation["rule_kinds"] == ["keyword"]
        assert "casino" not in json.dumps(federation)  # patterns stay private

        # a bad rule: refused, the policy in force stays, the server keeps running
        write_config(
            config, database_url, port,
            '[policy]\n[[policy.domain_blocks]]\ndomain = "other.example"\nseverity = "nuke"\n',
        )  # fmt: skip
        proc.send_signal(signal.SIGHUP)
        time.sleep(1.5)
        assert proc.poll() is None
        assert [b["domain"] for b in public()] == ["spam.example"]
        assert get_json(base + "/nodeinfo/2.1")["metadata"]["federation"]["rule_kinds"] == [
            "keyword"
        ]

        # and a later good file is taken again
        write_config(config, database_url, port, mode="allowlist")
        proc.send_signal(signal.SIGHUP)
        _until(lambda: public() == [], proc)
        assert get_json(base + "/nodeinfo/2.1")["metadata"]["federation"]["mode"] == "allowlist"
        assert get_json(base + "/api/v1/instance")["uri"] == f"127.0.0.1:{port}"  # apps still work
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        stderr = proc.stderr.read() if proc.stderr else ""
        assert "policy reload refused" in stderr and "policy.domain_blocks[0].severity" in stderr
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


async def test_check_names_an_invalid_database_rule(config_path: Path, database_url: str) -> None:
    store = await Store.open(database_url)
    try:
        row = await store.policy.create_domain_block("bad domain", severity="suspend")
    finally:
        await store.close()
    done = policy(config_path, "check")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"fedinode: database domain_blocks[id={row.id}]: invalid rule for 'bad domain'"
    )


def test_sighup_with_a_new_suspend_severs_follows_both_ways(
    tmp_path: Path, database_url: str
) -> None:
    import asyncio

    async def seed() -> None:
        store = await Store.open(database_url)
        try:
            _, alice = await store.users.create(
                NewAccount(username="alice", domain="", uri="http://127.0.0.1/users/alice"),
                email="alice@example.org", password_hash="x",
            )  # fmt: skip
            spam = await store.accounts.create(
                NewAccount(username="s", domain="spam.example", uri="https://spam.example/u/s")
            )
            friend = await store.accounts.create(
                NewAccount(username="f", domain="friend.example", uri="https://friend.example/u/f")
            )
            for a, b in ((alice, spam), (spam, alice), (alice, friend)):
                await store.relationships.follow(a.id, b.id)
        finally:
            await store.close()

    async def follow_domains() -> list[tuple[str, str]]:
        """alice's follows with remote peers, as (peer domain, direction)."""
        store = await Store.open(database_url)
        try:
            alice = await store.accounts.by_handle("alice")
            peers = [
                await store.accounts.by_handle(u, d)
                for u, d in (("s", "spam.example"), ("f", "friend.example"))
            ]
            assert alice is not None
            found = []
            for peer in peers:
                assert peer is not None
                if await store.relationships.get_follow(alice.id, peer.id):
                    found.append((peer.domain, "following"))
                if await store.relationships.get_follow(peer.id, alice.id):
                    found.append((peer.domain, "followed_by"))
            return sorted(found)
        finally:
            await store.close()

    asyncio.run(seed())
    port = free_port()
    config = write_config(tmp_path / "fedinode.toml", database_url, port)
    proc = subprocess.Popen(
        [sys.executable, "-m", "fedinode.cli", "--config", str(config), "serve"],
        env=os.environ.copy(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_for(f"http://127.0.0.1:{port}/api/v1/instance", proc)
        assert asyncio.run(follow_domains()) == [
            ("friend.example", "following"),
            ("spam.example", "followed_by"),
            ("spam.example", "following"),
        ]
        write_config(
            config, database_url, port,
            '[policy]\n[[policy.domain_blocks]]\ndomain = "spam.example"\nseverity = "suspend"\n',
        )  # fmt: skip
        proc.send_signal(signal.SIGHUP)
        _until(lambda: all(d != "spam.example" for d, _ in asyncio.run(follow_domains())), proc)
        assert asyncio.run(follow_domains()) == [("friend.example", "following")]
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
