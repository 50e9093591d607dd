"""Offline JSON-LD, used only where meaning depends on it (off the hot path).

Activities are read as plain JSON. Only a document whose ``@context`` redefines or
aliases terms we read (``needs_jsonld``) is compacted to our context with pyld
(``compact_to_ours``). The document loader never touches the network: it serves the
contexts bundled in ``activitypub/contexts/`` (authored here, minimal: the AS2 terms
we use, security v1, Mastodon extensions) and an empty context for any other URL, so
unknown extension terms drop out instead of triggering a fetch.

Canonicalisation for signatures (``canonical_nquads``, URDNA2015) needs the *published*
contexts, term for term, or the hash differs from the signer's: ``w3c-activitystreams.json``
and ``w3id-security-v1.json`` are verbatim copies of https://www.w3.org/ns/activitystreams
and https://w3id.org/security/v1 (W3C/W3ID documents). Its loader knows only those; any
other context URL raises ``UnknownContext`` (the signature is then unverifiable): a
signature check never fetches a context.
"""

from __future__ import annotations

import copy
import json
from functools import cache, lru_cache
from importlib import resources
from typing import Any

import orjson

from activitypub.errors import MalformedActivity
from activitypub.vocab import DEFAULT_CONTEXT, MASTODON_EXTENSIONS, PUBLIC, PUBLIC_ALIASES

AS_NS = "https://www.w3.org/ns/activitystreams#"
SEC_NS = "https://w3id.org/security#"

_BUNDLED = {
    "https://www.w3.org/ns/activitystreams": "activitystreams.json",
    "http://www.w3.org/ns/activitystreams": "activitystreams.json",
    "https://www.w3.org/ns/activitystreams.jsonld": "activitystreams.json",
    "http://www.w3.org/ns/activitystreams.jsonld": "activitystreams.json",
    "https://w3id.org/security/v1": "security-v1.json",
    "http://w3id.org/security/v1": "security-v1.json",
    "https://w3id.org/security/v1.jsonld": "security-v1.json",
}

# Prefixes under which a term maps into a namespace whose meaning we rely on.
_PREFIXES = {"as:": AS_NS, "sec:": SEC_NS}


@cache
def _bundled_context(filename: str) -> dict[str, Any]:
    text = resources.files("activitypub.contexts").joinpath(filename).read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


class UnknownContext(Exception):
    """A document names a context we do not hold verbatim: it cannot be canonicalised."""


# Published contexts, verbatim (for signatures): URL → file.
_CANONICAL = {
    "https://www.w3.org/ns/activitystreams": "w3c-activitystreams.json",
    "http://www.w3.org/ns/activitystreams": "w3c-activitystreams.json",
    "https://www.w3.org/ns/activitystreams.jsonld": "w3c-activitystreams.json",
    "https://w3id.org/security/v1": "w3id-security-v1.json",
    "http://w3id.org/security/v1": "w3id-security-v1.json",
    "https://w3id.org/security/v1.jsonld": "w3id-security-v1.json",
}


def canonical_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """pyld document loader for signatures: published contexts only, never the network."""
    filename = _CANONICAL.get(url)
    if filename is None:
        raise UnknownContext(url)
    document = copy.deepcopy(_bundled_context(filename))
    return {"contextUrl": None, "documentUrl": url, "document": document}


def canonical_nquads(doc: dict[str, Any]) -> str:
    """URDNA2015 canonical N-Quads of ``doc`` (offline; ~ms: keep it off the hot path).

    Raises UnknownContext when a context is not one we hold, MalformedActivity when the
    document is not valid JSON-LD.
    """
    from pyld import jsonld  # imported lazily: pyld is heavy and off the hot path

    options = {
        "algorithm": "URDNA2015",
        "format": "application/n-quads",
        "documentLoader": canonical_loader,
    }
    try:
        result = jsonld.normalize(doc, options)
    except jsonld.JsonLdError as exc:
        cause: BaseException | None = exc
        while cause is not None:
            if isinstance(cause, UnknownContext):
                raise cause from None
            cause = getattr(cause, "cause", None) or cause.__cause__
        raise MalformedActivity("invalid JSON-LD document", detail=str(exc)) from exc
    if not isinstance(result, str):
        raise MalformedActivity("JSON-LD canonicalisation gave no N-Quads")
    return result


def document_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """pyld document loader: bundled contexts, an empty context otherwise; never the network."""
    filename = _BUNDLED.get(url.split("#", 1)[0])
    document = copy.deepcopy(_bundled_context(filename)) if filename else {"@context": {}}
    return {"contextUrl": None, "documentUrl": url, "document": document}


@cache
def _our_terms() -> dict[str, str]:
    """term → expanded IRI for every term our contexts define (``id``/``type`` → keyword)."""
    terms: dict[str, str] = {}
    for filename in ("activitystreams.json", "security-v1.json"):
        _collect(_bundled_context(filename)["@context"], terms)
    _collect(MASTODON_EXTENSIONS, terms)
    return terms


def _collect(context: dict[str, Any], terms: dict[str, str]) -> None:
    prefixes = {k: v for k, v in context.items() if isinstance(v, str) and v.endswith(("#", "/"))}
    for term, definition in context.items():
        if term.startswith("@") or term in prefixes:
            continue
        iri = _expand(definition, prefixes)
        if iri is not None:
            terms[term] = iri


def _expand(definition: Any, prefixes: dict[str, str]) -> str | None:
    raw = definition.get("@id") if isinstance(definition, dict) else definition
    if not isinstance(raw, str):
        return None
    if raw.startswith("@"):
        return raw
    prefix, sep, rest = raw.partition(":")
    if sep and not rest.startswith("//"):
        base = prefixes.get(prefix) or _PREFIXES.get(prefix + ":")
        if base is not None:
            return base + rest
    return raw


def needs_jsonld(doc: Any) -> bool:
    """True when the document's ``@context`` redefines or aliases terms we read as plain JSON.

    Context URLs alone never need processing (we assume they define extension terms);
    an inline definition does when it maps one of our terms to another IRI, or maps
    another term onto an AS2/security IRI or a JSON-LD keyword (an alias).
    """
    if not isinstance(doc, dict):
        return False
    context = doc.get("@context")
    if context is None or isinstance(context, str):
        return False
    entries = context if isinstance(context, list) else [context]
    for entry in entries:
        if isinstance(entry, dict) and entry:
            try:
                key = orjson.dumps(entry, option=orjson.OPT_SORT_KEYS)
            except (orjson.JSONEncodeError, TypeError):
                if _entry_redefines(entry):
                    return True
                continue
            if _cached_entry_redefines(key):
                return True
    return False


@lru_cache(maxsize=512)
def _cached_entry_redefines(key: bytes) -> bool:
    # Peers send the same few inline contexts over and over; decide each once.
    entry = orjson.loads(key)
    return isinstance(entry, dict) and _entry_redefines(entry)


def _entry_redefines(entry: dict[str, Any]) -> bool:
    ours = _our_terms()
    prefixes = {k: v for k, v in entry.items() if isinstance(v, str) and v.endswith(("#", "/"))}
    for term, definition in entry.items():
        if term in ("@vocab", "@base"):
            return True
        if term.startswith("@") or term in prefixes:
            continue
        iri = _expand(definition, prefixes)
        if iri is None:
            continue
        expected = ours.get(term)
        if expected is not None:
            if iri != expected:
                return True
            continue
        if iri.startswith("@") or iri.startswith((AS_NS, SEC_NS)):
            return True
    return False


def compact_to_ours(doc: dict[str, Any]) -> dict[str, Any]:
    """Expand ``doc`` with its own context and compact it to ours (offline, slow: ~ms).

    Raises MalformedActivity if the document is not valid JSON-LD.
    """
    from pyld import jsonld  # imported lazily: pyld is heavy and off the hot path

    options = {"documentLoader": document_loader}
    try:
        compacted: dict[str, Any] = jsonld.compact(doc, {"@context": DEFAULT_CONTEXT}, options)
    except jsonld.JsonLdError as exc:
        raise MalformedActivity("invalid JSON-LD document", detail=str(exc)) from exc
    compacted["@context"] = DEFAULT_CONTEXT
    _normalise_public(compacted)
    return compacted


_ADDRESSING = ("to", "cc", "bto", "bcc", "audience")


def _normalise_public(node: Any) -> None:
    """Compaction writes Public as ``as:Public``; downstream code compares with PUBLIC."""
    if isinstance(node, list):
        for item in node:
            _normalise_public(item)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key in _ADDRESSING:
            if isinstance(value, str) and value in PUBLIC_ALIASES:
                node[key] = PUBLIC
            elif isinstance(value, list):
                node[key] = [PUBLIC if v in PUBLIC_ALIASES else v for v in value]
        elif isinstance(value, dict | list):
            _normalise_public(value)
