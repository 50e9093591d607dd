"""Push titles in the recipient's language, bodies cut short, payloads padded."""

from __future__ import annotations

import json

import orjson

from fedinode.services import push_text
from fedinode.services.notifications import TYPES
from fedinode.services.push import ALERTS, backoff_ms


def _payload(**kw: object) -> push_text.PushPayload:
    fields: dict[str, object] = {
        "access_token": "tok", "locale": "en", "notification_id": 7, "type_": "mention",
        "sender_name": "Bob", "icon": "https://x.example/a.png", "body": "hi",
    }  # fmt: skip
    fields.update(kw)
    return push_text.payload(**fields)  # type: ignore[arg-type]


def test_every_type_has_a_title_in_every_language() -> None:
    for table in push_text.TITLES.values():
        assert set(TYPES) <= set(table)
        for type_ in {*TYPES, *ALERTS}:
            assert push_text.title(type_, "Bob", "en")


def test_persian_titles_and_locale_fallbacks() -> None:
    assert push_text.title("follow", "سارا", "fa") == "سارا پیگیرتان شد"
    assert push_text.title("follow", "Sara", "fa-IR") == push_text.title("follow", "Sara", "fa")
    assert push_text.title("follow", "Sara", "de") == "Sara followed you"
    assert push_text.title("follow", "Sara", "") == "Sara followed you"


def test_payload_fields_and_cuts() -> None:
    p = _payload(body="word " * 100, sender_name="N" * 500)
    assert p["notification_id"] == 7 and p["notification_type"] == "mention"
    assert len(p["body"]) == push_text.BODY_CHARS and p["body"].endswith("…")
    assert len(p["title"]) < 100
    assert _payload(locale="")["preferred_locale"] == "en"


def test_padding_keeps_the_json() -> None:
    for body in ("", "short", "x" * 140, "سلام " * 28):
        raw = push_text.padded(orjson.dumps(_payload(body=body)))
        assert len(raw) % push_text.PAD_STEP == 0
        assert json.loads(raw)["body"] == push_text.payload(
            access_token="t", locale="en", notification_id=1, type_="mention",
            sender_name="b", icon="", body=body,
        )["body"]  # fmt: skip


def test_backoff_grows_and_is_capped() -> None:
    waits = [backoff_ms(n) for n in range(20)]
    assert 24_000 <= waits[0] <= 36_000
    assert waits[3] > waits[0]
    assert max(waits) <= 6 * 3_600_000 * 1.2
