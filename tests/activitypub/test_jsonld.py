from __future__ import annotations

import socket
from typing import Any

import pytest

from activitypub.errors import MalformedActivity
from activitypub.jsonld import compact_to_ours, document_loader, needs_jsonld
from activitypub.vocab import DEFAULT_CONTEXT, PUBLIC

AS = "https://www.w3.org/ns/activitystreams"

MASTODON_CTX = [
    AS,
    "https://w3id.org/security/v1",
    {
        "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
        "toot": "http://joinmastodon.org/ns#",
        "featured": {"@id": "toot:featured", "@type": "@id"},
        "Hashtag": "as:Hashtag",
        "sensitive": "as:sensitive",
        "schema": "http://schema.org#",
        "PropertyValue": "schema:PropertyValue",
        "value": "schema:value",
        "Emoji": "toot:Emoji",
        "focus": {"@id": "toot:focus", "@container": "@list"},
    },
]
MISSKEY_CTX = [
    AS,
    "https://w3id.org/security/v1",
    {
        "Key": "sec:Key",
        "misskey": "https://misskey-hub.net/ns#",
        "_misskey_content": "misskey:_misskey_content",
        "quoteUrl": "as:quoteUrl",
        "isCat": "misskey:isCat",
        "vcard": "http://www.w3.org/2006/vcard/ns#",
    },
]
PLEROMA_CTX = [AS, "https://pleroma.example/schemas/litepub-0.1.jsonld", {"@language": "und"}]

ALIASED = {
    "@context": [
        AS,
        {
            "who": {"@id": "as:actor", "@type": "@id"},
            "identifier": "@id",
            "Post": "as:Note",
            "words": "https://www.w3.org/ns/activitystreams#content",
        },
    ],
    "identifier": "https://r.example/act/1",
    "type": "Create",
    "who": "https://r.example/u/a",
    "to": ["as:Public"],
    "object": {
        "identifier": "https://r.example/n/1",
        "type": "Post",
        "words": "<p>سلام</p>",
        "published": "2024-01-01T00:00:00Z",
    },
}


@pytest.mark.parametrize(
    "context",
    [None, AS, [AS], DEFAULT_CONTEXT, MASTODON_CTX, MISSKEY_CTX, PLEROMA_CTX],
    ids=["none", "as-str", "as-list", "ours", "mastodon", "misskey", "pleroma"],
)
def test_standard_contexts_need_nothing(context: Any) -> None:
    doc: dict[str, Any] = {"type": "Note"}
    if context is not None:
        doc["@context"] = context
    assert not needs_jsonld(doc)


@pytest.mark.parametrize(
    "inline",
    [
        {"who": {"@id": "as:actor", "@type": "@id"}},
        {"identifier": "@id"},
        {"actor": "https://evil.example/ns#actor"},
        {"content": {"@id": "https://other.example/ns#body"}},
        {"@vocab": "https://other.example/ns#"},
    ],
)
def test_aliases_need_jsonld(inline: dict[str, Any]) -> None:
    assert needs_jsonld({"@context": [AS, inline], "type": "Note"})


def test_not_a_dict() -> None:
    assert not needs_jsonld(["x"])


def test_compact_aliases_to_ours() -> None:
    out = compact_to_ours(ALIASED)
    assert out["@context"] == DEFAULT_CONTEXT
    assert out["id"] == "https://r.example/act/1"
    assert out["type"] == "Create"
    assert out["actor"] == "https://r.example/u/a"
    assert out["to"] == PUBLIC
    assert out["object"]["type"] == "Note"
    assert out["object"]["content"] == "<p>سلام</p>"
    assert not needs_jsonld(out)


def test_loader_is_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    assert "as" in document_loader(AS)["document"]["@context"]
    assert "publicKey" in document_loader("https://w3id.org/security/v1")["document"]["@context"]
    assert document_loader("https://unknown.example/ctx.jsonld")["document"] == {"@context": {}}
    doc = {"@context": ["https://unknown.example/ctx.jsonld", {"x": {"@id": "https://www.w3.org/ns/activitystreams#actor", "@type": "@id"}}], "x": "https://a/1", "y": 1}
    assert compact_to_ours(doc)["actor"] == "https://a/1"


def test_loader_returns_copies() -> None:
    first = document_loader(AS)["document"]
    first["@context"]["id"] = "mutated"
    assert document_loader(AS)["document"]["@context"]["id"] == "@id"


def test_invalid_jsonld() -> None:
    with pytest.raises(MalformedActivity):
        compact_to_ours({"@context": [{"x": {"@id": 42}}], "x": 1})
