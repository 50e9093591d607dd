"""FEP-8b32 Object Integrity Proofs (eddsa-jcs-2022), JCS (RFC 8785) and Multikeys."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from hypothesis import given, settings
from hypothesis import strategies as st

from activitypub import integrity
from activitypub.keys import (
    b58decode,
    b58encode,
    multikey_of,
    parse_multikey,
    parse_private_multikey,
)

# Test vector of W3C "Data Integrity EdDSA Cryptosuites v1.0" (vc-di-eddsa), eddsa-jcs-2022:
# the key pair (TestVectors/keyPair.json) and the signed credential
# (TestVectors/eddsa-jcs-2022/signedJCS.json), published by the W3C VC Working Group.
W3C_PUBLIC = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
W3C_SECRET = "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq"
W3C_CONTEXT = [
    "https://www.w3.org/ns/credentials/v2",
    "https://www.w3.org/ns/credentials/examples/v2",
]
W3C_SIGNED: dict[str, Any] = {
    "@context": W3C_CONTEXT,
    "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
    "type": ["VerifiableCredential", "AlumniCredential"],
    "name": "Alumni Credential",
    "description": "A minimum viable example of an Alumni Credential.",
    "issuer": "https://vc.example/issuers/5678",
    "validFrom": "2023-01-01T00:00:00Z",
    "credentialSubject": {"id": "did:example:abcdefgh", "alumniOf": "The School of Examples"},
    "proof": {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-jcs-2022",
        "created": "2023-02-24T23:36:38Z",
        "verificationMethod": f"https://vc.example/issuers/5678#{W3C_PUBLIC}",
        "proofPurpose": "assertionMethod",
        "@context": W3C_CONTEXT,
        "proofValue": "z63t83Y53KfzJ5ZosfKTnqfMcKB2dmTrfjSaQjeNNjAD5srBowQfmWqeRb8rRjmeEuCBEsddF9LsVogtuTsijJKh4",
    },
}
# The spec's hash of the canonical unsecured document (second half of combinedHashJCS.txt).
W3C_DOC_HASH = "59b7cb6251b8991add1ce0bc83107e3db9dbbab5bd2c28f687db1a03abc92f19"


def test_w3c_vector_verifies() -> None:
    key = parse_multikey(W3C_PUBLIC)
    assert integrity.verify(W3C_SIGNED, key)
    proof = integrity.proof_of(W3C_SIGNED)
    assert proof is not None
    assert integrity.hash_data(W3C_SIGNED, proof.options)[32:].hex() == W3C_DOC_HASH


def test_w3c_vector_tampered_fails() -> None:
    key = parse_multikey(W3C_PUBLIC)
    tampered = copy.deepcopy(W3C_SIGNED)
    tampered["credentialSubject"]["alumniOf"] = "Another School"
    assert not integrity.verify(tampered, key)
    tampered = copy.deepcopy(W3C_SIGNED)
    tampered["proof"]["created"] = "2024-02-24T23:36:38Z"
    assert not integrity.verify(tampered, key)


def test_proof_context_must_prefix_the_documents() -> None:
    doc = copy.deepcopy(W3C_SIGNED)
    doc["@context"] = ["https://www.w3.org/ns/credentials/v2"]
    with pytest.raises(integrity.Unverifiable):
        integrity.verify(doc, parse_multikey(W3C_PUBLIC))


def test_w3c_key_pair_and_sign_roundtrip() -> None:
    secret = parse_private_multikey(W3C_SECRET)
    assert multikey_of(secret) == W3C_PUBLIC
    unsigned = {k: v for k, v in W3C_SIGNED.items() if k != "proof"}
    signed = integrity.sign(unsigned, "https://vc.example/issuers/5678#key", secret)
    assert integrity.verify(signed, parse_multikey(W3C_PUBLIC))
    assert not integrity.verify(signed, ed25519.Ed25519PrivateKey.generate().public_key())


def test_other_suites_and_purposes_are_not_proofs() -> None:
    for change in ({"cryptosuite": "eddsa-rdfc-2022"}, {"proofPurpose": "authentication"},
                   {"type": "Ed25519Signature2020"}, {"proofValue": "u-not-base58"}):  # fmt: skip
        doc = copy.deepcopy(W3C_SIGNED)
        doc["proof"].update(change)
        assert integrity.proof_of(doc) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # RFC 8785 appendix B (ECMAScript number serialisation)
        (0.0, "0"), (-0.0, "0"), (1e21, "1e+21"), (1e20, "100000000000000000000"),
        (333333333.3333333, "333333333.3333333"), (5e-324, "5e-324"), (1e-7, "1e-7"),
        (0.000001, "0.000001"), (1.7976931348623157e308, "1.7976931348623157e+308"),
        (9007199254740992, "9007199254740992"), (-1.5, "-1.5"), (4.5e-7, "4.5e-7"),
    ],
)  # fmt: skip
def test_jcs_numbers(value: float, expected: str) -> None:
    assert integrity.jcs(value).decode() == expected


def test_jcs_objects_sort_by_utf16_and_escape_like_ecmascript() -> None:
    # RFC 8785 §3.2.3: sorting by UTF-16 code units puts U+1F600 (surrogates) before U+FB33.
    value = {"\ufb33": 1, "\U0001f600": 2, "\r": 3, "1": 4, "\u00e9": 5, "a": [True, None]}
    assert integrity.jcs(value).decode() == (
        '{"\\r":3,"1":4,"a":[true,null],"\u00e9":5,"\U0001f600":2,"\ufb33":1}'
    )
    assert integrity.jcs('\u2028\x1f"') == '"\u2028\\u001f\\""'.encode()
    with pytest.raises(ValueError):
        integrity.jcs(float("nan"))


def test_base58_and_multikey() -> None:
    for raw in (b"", b"\0", b"\0\0\x01", bytes(range(40))):
        assert b58decode(b58encode(raw)) == raw
    key = ed25519.Ed25519PrivateKey.generate()
    assert multikey_of(parse_multikey(multikey_of(key))) == multikey_of(key)
    with pytest.raises(ValueError):
        parse_multikey("z" + b58encode(b"\x12\x00" + bytes(32)))  # not ed25519-pub
    with pytest.raises(ValueError):
        parse_multikey("f" + "00" * 34)  # not base58btc


def test_assertion_key_from_an_actor_document() -> None:
    actor = "https://c.example/users/carol"
    key = ed25519.Ed25519PrivateKey.generate()
    entry = {"id": f"{actor}#ed25519-key", "type": "Multikey", "controller": actor,
             "publicKeyMultibase": multikey_of(key)}  # fmt: skip
    doc = {"id": actor, "assertionMethod": [entry]}
    found = integrity.assertion_key(doc, f"{actor}#ed25519-key")
    assert found is not None and multikey_of(found) == multikey_of(key)
    assert integrity.assertion_key(doc, f"{actor}#other") is None
    stolen = {**doc, "assertionMethod": [{**entry, "controller": "https://c.example/users/x"}]}
    assert integrity.assertion_key(stolen, f"{actor}#ed25519-key") is None


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(doc=st.dictionaries(st.text(max_size=8), _json, max_size=5), proof=_json)
def test_any_document_verifies_false_or_unverifiable_never_crashes(
    doc: dict[str, Any], proof: Any
) -> None:
    doc["proof"] = proof if not isinstance(proof, dict) else {
        **proof, "type": "DataIntegrityProof", "cryptosuite": "eddsa-jcs-2022",
        "proofPurpose": "assertionMethod", "verificationMethod": "https://a/b#k",
        "proofValue": "z" + b58encode(bytes(64)),
    }  # fmt: skip
    try:
        assert integrity.verify(doc, parse_multikey(W3C_PUBLIC)) is False
    except integrity.Unverifiable:
        pass
