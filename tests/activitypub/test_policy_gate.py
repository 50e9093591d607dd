"""The policy gate: file settings merged with database rules, decisions recorded, refresh
across processes, pruning by age."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest

from activitypub.policy_gate import PolicyGate, block_from_row
from policy.errors import PolicyConfigError
from policy.settings import (
    BLOCK_FLAGS,
    BLOCK_TEXTS,
    FINER_BLOCK_FLAGS,
    LIMITING_BLOCK_FLAGS,
    DomainAllow,
    DomainBlock,
    settings_from_mapping,
)
from storage.ids import now_ms
from storage.models import DomainBlockRow
from storage.paging import Page
from storage.policy_rows import BLOCK_FIELDS, NewDecision
from storage.store import Store

FILE = settings_from_mapping(
    "open",
    {
        "audit_retention_days": 7,
        "domain_blocks": [
            {"domain": "file.test", "severity": "suspend"},
            {"domain": "both.test", "severity": "suspend", "public_comment": "from the file"},
        ],
        "rules": [{"kind": "keyword", "pattern": "buy cheap"}],
    },
)


def _bool_fields(cls: type) -> set[str]:
    return {f.name for f in dataclasses.fields(cls) if f.type in ("bool", bool)}


def test_domain_block_flags_have_one_list_that_matches_both_models() -> None:
    assert set(BLOCK_FLAGS) == _bool_fields(DomainBlock) == _bool_fields(DomainBlockRow)
    assert len(BLOCK_FLAGS) == len(set(BLOCK_FLAGS)) == 8
    assert set(LIMITING_BLOCK_FLAGS) == set(BLOCK_FLAGS) - {"obfuscate"}
    assert set(FINER_BLOCK_FLAGS) == set(LIMITING_BLOCK_FLAGS) - {"reject_media", "reject_reports"}
    assert set(BLOCK_FIELDS) == {"severity", *BLOCK_FLAGS, *BLOCK_TEXTS}


@pytest.mark.parametrize("flag", BLOCK_FLAGS)
async def test_every_block_flag_survives_the_database(store: Store, flag: str) -> None:
    row = await store.policy.create_domain_block("flags.test", severity="noop", **{flag: True})
    block = block_from_row(row)
    assert {name for name in BLOCK_FLAGS if getattr(block, name)} == {flag}
    gate = PolicyGate(FILE, store)
    await gate.refresh()
    described = gate.pipeline.describe(private=True)["domain_blocks"]
    entry = next(b for b in described if b["domain"] == "flags.test")
    assert {name for name in BLOCK_FLAGS if entry.get(name)} == {flag}


@pytest.fixture
async def gate(store: Store) -> PolicyGate:
    g = PolicyGate(FILE, store)
    await g.refresh()
    return g


@contextlib.asynccontextmanager
async def running(gate: PolicyGate, **kw: float | bool) -> AsyncIterator[None]:
    task = asyncio.create_task(gate.maintain(**kw))  # type: ignore[arg-type]
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def eventually(predicate: Callable[[], bool], within: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def test_database_rules_merge_with_the_file(store: Store, gate: PolicyGate) -> None:
    await store.policy.create_domain_block("db.test", severity="suspend")
    await store.policy.create_domain_block("both.test", severity="silence", public_comment="db")
    await store.policy.create_domain_allow("friend.test")
    await gate.refresh()
    p = gate.pipeline
    assert not p.check_host("file.test", "inbound").allowed
    assert not p.check_host("db.test", "inbound").allowed
    # for the same domain the database entry wins
    assert p.check_host("both.test", "inbound").allowed
    block = p.domain_block_for("both.test")
    assert block is not None and block.severity == "silence" and block.public_comment == "db"
    assert [a.domain for a in gate.settings.domain_allows] == ["friend.test"]
    assert gate.file_settings is FILE
    assert [r["kind"] for r in gate.describe()["rules"]] == ["keyword"]


async def test_a_bad_candidate_is_refused_and_the_policy_stays(gate: PolicyGate) -> None:
    before = gate.pipeline
    with pytest.raises(PolicyConfigError, match=r"domain_allows\.domain"):
        gate.candidate([], [DomainAllow("bad domain")])
    with pytest.raises(PolicyConfigError, match=r"domain_blocks\.domain"):
        gate.candidate([DomainBlock("*.")], [])
    assert gate.pipeline is before
    good = gate.candidate([DomainBlock("cand.test")], [])
    assert not good.check_host("cand.test", "inbound").allowed
    assert gate.pipeline is before  # a candidate is never put in force by itself


async def test_invalid_database_rows_are_skipped(store: Store, gate: PolicyGate) -> None:
    await store.policy.create_domain_block("odd.test", severity="obliterate")
    await store.policy.create_domain_block("not a domain", severity="suspend")
    await store.policy.create_domain_block("ok.test", severity="suspend")
    await gate.refresh()
    assert gate.pipeline.domain_block_for("odd.test") is None
    assert not gate.pipeline.check_host("ok.test", "fetch").allowed


async def test_refresh_if_changed_rebuilds_only_on_change(store: Store, gate: PolicyGate) -> None:
    before = gate.pipeline
    assert await gate.refresh_if_changed() is False
    assert gate.pipeline is before
    await store.policy.create_domain_block("new.test", severity="suspend")
    assert await gate.refresh_if_changed() is True
    assert not gate.pipeline.check_host("new.test", "outbound").allowed


async def test_check_host_and_run_record_decisions(store: Store, gate: PolicyGate) -> None:
    refused = await gate.check_host(
        "file.test", "fetch", activity={"id": "https://file.test/1", "type": "Note"}
    )
    assert not refused.allowed
    allowed = await gate.check_host("fine.test", "outbound")
    assert allowed.allowed
    outcome = await gate.run(
        {
            "id": "https://fine.test/a",
            "type": "Create",
            "actor": "https://fine.test/u",
            "object": {"type": "Note", "content": "Buy CHEAP watches"},
        },
        direction="inbound",
        peer="fine.test",
        actor="https://fine.test/u",
    )
    assert not outcome.accepted
    rows = await store.policy.decisions(Page(limit=10))
    assert [(r.direction, r.peer, r.rule, r.action, r.enforced) for r in rows] == [
        ("inbound", "fine.test", "keyword[0]", "reject", True),
        ("fetch", "file.test", "domain_block:file.test", "reject", True),
    ]
    assert rows[1].activity_id == "https://file.test/1" and rows[1].activity_type == "Note"
    assert rows[0].actor == "https://fine.test/u"


async def test_prune_uses_retention_days(store: Store, gate: PolicyGate) -> None:
    now = now_ms()

    def decision(age_days: float) -> NewDecision:
        return NewDecision(
            time=now - int(age_days * 86_400_000), direction="inbound", peer="p.test",
            actor=None, activity_id=f"https://p.test/{age_days}", activity_type="Create",
            rule="keyword[0]", action="reject", enforced=True, reason="",
        )  # fmt: skip

    await store.policy.record_decisions([decision(1), decision(6.9), decision(7.1), decision(30)])
    assert await gate.prune(now) == 2
    left = [r.activity_id for r in await store.policy.decisions(Page(limit=10))]
    assert sorted(left) == ["https://p.test/1", "https://p.test/6.9"]


async def test_maintain_prunes_and_follows_other_processes(
    store: Store, gate: PolicyGate, database_url: str
) -> None:
    old = datetime.now(UTC) - timedelta(days=8)
    await store.policy.record_decisions(
        [NewDecision(int(old.timestamp() * 1000), "inbound", "p.test", None, None, "Create",
                     "keyword[0]", "reject", True, "")]
    )  # fmt: skip
    # another process: its own connection to the same database, its own gate
    other_store = await Store.open(database_url)
    try:
        other = PolicyGate(FILE, other_store)
        await other.refresh()
        async with running(other, refresh_every=0.2, prune=True):
            # the change is made through this process's gate
            await store.policy.create_domain_block("late.test", severity="suspend")
            await gate.changed()
            assert not gate.pipeline.check_host("late.test", "inbound").allowed
            await eventually(lambda: not other.pipeline.check_host("late.test", "inbound").allowed)
        assert await store.policy.decisions(Page(limit=10)) == []
    finally:
        await other_store.close()


async def test_notify_reaches_other_processes_at_once(
    store: Store, gate: PolicyGate, database_url: str, backend: str
) -> None:
    other_store = await Store.open(database_url)
    try:
        other = PolicyGate(FILE, other_store)
        await other.refresh()
        # a safety-net period far longer than the test: only the NOTIFY can refresh it
        async with running(other, refresh_every=600, prune=False):
            await asyncio.sleep(0.3)  # LISTEN is in place
            await store.policy.create_domain_block("notified.test", severity="suspend")
            await gate.changed()
            await eventually(
                lambda: not other.pipeline.check_host("notified.test", "inbound").allowed, 3.0
            )
    finally:
        await other_store.close()


PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


def note(host: str, content: str, **extra: object) -> dict[str, object]:
    return {
        "id": f"https://{host}/notes/1",
        "type": "Note",
        "attributedTo": f"https://{host}/users/u",
        "content": content,
        "to": [PUBLIC],
        "cc": [f"https://{host}/users/u/followers"],
        **extra,
    }


async def test_filter_fetched_judges_notes_as_their_create(store: Store) -> None:
    gate = PolicyGate(
        settings_from_mapping(
            "open",
            {
                "domain_blocks": [
                    {"domain": "quiet.test", "severity": "silence"},
                    {"domain": "faces.test", "severity": "noop", "avatar_removal": True},
                    {"domain": "gone.test", "severity": "suspend"},
                ],
                "rules": [
                    {"kind": "keyword", "pattern": "buy cheap"},
                    {"kind": "hashtag", "tags": ["nsfw"], "action": "sensitive"},
                ],
            },
        ),
        store,
    )
    await gate.refresh()
    clean = note("fine.test", "hello")
    assert await gate.filter_fetched(clean, peer="fine.test") == clean
    assert await gate.filter_fetched(note("fine.test", "Buy CHEAP now"), peer="fine.test") is None
    tagged = await gate.filter_fetched(
        note("fine.test", "#nsfw", tag=[{"type": "Hashtag", "name": "#nsfw"}]), peer="fine.test"
    )
    assert tagged is not None and tagged["sensitive"] is True
    quiet = await gate.filter_fetched(note("quiet.test", "hi"), peer="quiet.test")
    assert quiet is not None and PUBLIC not in quiet["to"] and PUBLIC in quiet["cc"]
    assert await gate.filter_fetched(note("gone.test", "hi"), peer="gone.test") is None
    actor = {
        "id": "https://faces.test/users/u",
        "type": "Person",
        "icon": {"url": "https://faces.test/a.png"},
    }
    stripped = await gate.filter_fetched(actor, peer="faces.test")
    assert stripped is not None and "icon" not in stripped and stripped["id"] == actor["id"]

    rows = await store.policy.decisions(Page(limit=20), direction="fetch")
    by_rule = {(r.rule, r.activity_type, r.action) for r in rows}
    assert ("keyword[0]", "Note", "reject") in by_rule
    assert ("hashtag[1]", "Note", "sensitive") in by_rule
    assert ("domain_block:quiet.test", "Note", "unlist") in by_rule
    assert ("domain_block:gone.test", "Note", "reject") in by_rule
    assert ("domain_block:faces.test", "Person", "avatar_removal") in by_rule
    assert all(r.direction == "fetch" for r in rows)
