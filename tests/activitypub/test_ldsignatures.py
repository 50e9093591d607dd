"""RsaSignature2017 Linked Data Signatures: our signer and verifier, Mastodon's algorithm."""

from __future__ import annotations

import base64
import copy
import hashlib
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from remote_peer import keypair

from activitypub import ldsignatures
from activitypub.jsonld import canonical_nquads
from activitypub.keys import load_private, load_public

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
KEY_ID = "https://c.example/users/carol#main-key"
CREATED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _private() -> rsa.RSAPrivateKey:
    key = load_private(keypair(0)[0])
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def _public() -> rsa.RSAPublicKey:
    key = load_public(keypair(0)[1])
    assert isinstance(key, rsa.RSAPublicKey)
    return key


def mastodon_create() -> dict[str, Any]:
    """A Create shaped as Mastodon 4.x sends it (inline extension context, replies page)."""
    carol = "https://c.example/users/carol"
    note = {
        "id": f"{carol}/statuses/1",
        "type": "Note",
        "summary": None,
        "inReplyTo": "https://b.example/users/bob/statuses/9",
        "published": "2026-01-01T00:00:00Z",
        "url": "https://c.example/@carol/1",
        "attributedTo": carol,
        "to": [PUBLIC],
        "cc": [f"{carol}/followers", "https://b.example/users/bob"],
        "sensitive": False,
        "atomUri": f"{carol}/statuses/1",
        "inReplyToAtomUri": "https://b.example/users/bob/statuses/9",
        "conversation": "tag:b.example,2026-01-01:objectId=9:objectType=Conversation",
        "content": '<p><span class="h-card"><a href="https://b.example/@bob">@bob</a></span> سلام</p>',
        "contentMap": {"fa": "<p>سلام</p>"},
        "attachment": [],
        "tag": [{"type": "Mention", "href": "https://b.example/users/bob", "name": "@bob@b.example"}],
        "replies": {
            "id": f"{carol}/statuses/1/replies",
            "type": "Collection",
            "first": {"type": "CollectionPage", "next": f"{carol}/statuses/1/replies?page=true",
                      "partOf": f"{carol}/statuses/1/replies", "items": []},
        },
    }  # fmt: skip
    return {
        "@context": [
            "https://www.w3.org/ns/activitystreams",
            {
                "ostatus": "http://ostatus.org#",
                "atomUri": "ostatus:atomUri",
                "inReplyToAtomUri": "ostatus:inReplyToAtomUri",
                "conversation": "ostatus:conversation",
                "sensitive": "as:sensitive",
                "toot": "http://joinmastodon.org/ns#",
                "votersCount": "toot:votersCount",
            },
        ],
        "id": f"{carol}/statuses/1/activity",
        "type": "Create",
        "actor": carol,
        "published": "2026-01-01T00:00:00Z",
        "to": [PUBLIC],
        "cc": note["cc"],
        "object": note,
    }


def test_sign_then_verify() -> None:
    signed = ldsignatures.sign(mastodon_create(), KEY_ID, _private(), created=CREATED)
    block = signed["signature"]
    assert block["type"] == "RsaSignature2017" and block["creator"] == KEY_ID
    assert block["created"] == "2026-01-02T03:04:05Z"
    assert ldsignatures.verify(signed, _public())
    # The signature survives a JSON round trip with keys in another order.
    reordered = {k: signed[k] for k in reversed(list(signed))}
    assert ldsignatures.verify(reordered, _public())


@pytest.mark.parametrize(
    "tamper",
    [
        lambda d: d["object"].__setitem__("content", "<p>forged</p>"),
        lambda d: d["object"]["cc"].append("https://evil.example/users/x"),
        lambda d: d.__setitem__("to", []),
        lambda d: d["object"].__setitem__("sensitive", True),
        lambda d: d["signature"].__setitem__("created", "2026-01-02T03:04:06Z"),
        lambda d: d["signature"].__setitem__("creator", "https://c.example/users/dave#main-key"),
    ],
)
def test_tampering_breaks_the_signature(tamper: Any) -> None:
    signed = ldsignatures.sign(mastodon_create(), KEY_ID, _private(), created=CREATED)
    tampered = copy.deepcopy(signed)
    tamper(tampered)
    assert not ldsignatures.verify(tampered, _public())


def test_other_key_does_not_verify() -> None:
    signed = ldsignatures.sign(mastodon_create(), KEY_ID, _private())
    other = load_public(keypair(1)[1])
    assert not ldsignatures.verify(signed, other)


def test_signed_data_is_mastodons_construction() -> None:
    """Independent of our signer: hex(sha256(C(options))) + hex(sha256(C(doc))), PKCS#1 v1.5."""
    doc = mastodon_create()
    options = {"@context": "https://w3id.org/identity/v1", "creator": KEY_ID,
               "created": "2026-01-02T03:04:05Z"}  # fmt: skip
    # identity/v1 and security/v1 define creator and created alike: the same two triples.
    expected_options = (
        f'_:c14n0 <http://purl.org/dc/terms/created> "2026-01-02T03:04:05Z"'
        f"^^<http://www.w3.org/2001/XMLSchema#dateTime> .\n"
        f"_:c14n0 <http://purl.org/dc/terms/creator> <{KEY_ID}> .\n"
    )
    assert canonical_nquads({**options, "@context": "https://w3id.org/security/v1"}) == (
        expected_options
    )
    data = (
        hashlib.sha256(expected_options.encode()).hexdigest()
        + hashlib.sha256(canonical_nquads(doc).encode()).hexdigest()
    ).encode()
    value = _private().sign(data, padding.PKCS1v15(), hashes.SHA256())
    doc["signature"] = {"type": "RsaSignature2017", "creator": KEY_ID,
                        "created": "2026-01-02T03:04:05Z",
                        "signatureValue": base64.b64encode(value).decode()}  # fmt: skip
    assert ldsignatures.verify(doc, _public())


def test_document_canonical_form_keeps_what_matters() -> None:
    nquads = canonical_nquads(mastodon_create())
    assert "<https://www.w3.org/ns/activitystreams#content>" in nquads
    assert "<http://ostatus.org#atomUri>" in nquads  # inline extension terms count too
    assert "سلام" in nquads


def test_unknown_context_is_unverifiable_not_fetched() -> None:
    doc = mastodon_create()
    doc["@context"] = [*doc["@context"], "https://litepub.example/schemas/litepub-0.1.jsonld"]
    with pytest.raises(ldsignatures.Unverifiable, match="unknown JSON-LD context"):
        ldsignatures.sign(doc, KEY_ID, _private())
    signed = ldsignatures.sign(mastodon_create(), KEY_ID, _private())
    signed["@context"] = doc["@context"]
    with pytest.raises(ldsignatures.Unverifiable):
        ldsignatures.verify(signed, _public())


def test_missing_or_malformed_signature() -> None:
    with pytest.raises(ldsignatures.Unverifiable):
        ldsignatures.verify(mastodon_create(), _public())
    assert ldsignatures.signature_of({"signature": "x"}) is None
    assert ldsignatures.signature_of({"signature": {"type": "Other"}}) is None
    bad = {"signature": {"type": "RsaSignature2017", "creator": KEY_ID, "signatureValue": 5}}
    assert ldsignatures.signature_of(bad) is None


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)
_contexts = st.sampled_from(
    ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1", {"@vocab": "x:"},
     {"@list": 1}, {"a": {"@id": "@type"}}, {"b": {"@container": "@list", "@id": "x:b"}}, [], 5]
)  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=st.dictionaries(st.text(max_size=8), _json, max_size=5), context=_contexts)
def test_any_document_verifies_false_or_unverifiable_never_crashes(
    doc: dict[str, Any], context: Any
) -> None:
    """Whatever a peer sends, the verifier answers True/False or raises Unverifiable."""
    doc["@context"] = context
    doc["signature"] = {"type": "RsaSignature2017", "creator": KEY_ID, "created": "x",
                        "signatureValue": base64.b64encode(b"\0" * 256).decode()}  # fmt: skip
    try:
        assert ldsignatures.verify(doc, _public()) is False
    except ldsignatures.Unverifiable:
        pass


async def test_a_warmed_up_signer_signs_as_before() -> None:
    """Readying the signer (pyld and our contexts loaded ahead) changes no signature."""
    before = ldsignatures.sign(mastodon_create(), KEY_ID, _private(), created=CREATED)
    await ldsignatures.PayloadSigner().warm_up()
    after = ldsignatures.sign(mastodon_create(), KEY_ID, _private(), created=CREATED)
    assert after == before
    assert ldsignatures.verify(after, _public())
