"""Benchmark: HTTP signature sign/verify, PEM loading, HTML sanitising.

Run: python bench/signatures.py [--n N]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives import serialization

from activitypub.html import html_to_text, sanitize_html
from activitypub.jsonld import needs_jsonld
from activitypub.keys import generate_keypair, load_private, load_public
from activitypub.signatures import ResolvedKey, sign_request, verify_request
from activitypub.vocab import DEFAULT_CONTEXT

STATUS_HTML = (
    '<p>Hello <span class="h-card" translate="no"><a href="https://b.example/@bob" '
    'class="u-url mention">@<span>bob</span></a></span>, have you seen '
    '<a href="https://news.example/articles/2026/11/28/federation" target="_blank" '
    'rel="nofollow noopener noreferrer"><span class="invisible">https://</span>'
    '<span class="ellipsis">news.example/articles/2026/11/</span>'
    '<span class="invisible">28/federation</span></a>? '
    '<a href="https://b.example/tags/fediverse" class="mention hashtag" rel="tag">'
    "#<span>fediverse</span></a> سلام 日本</p><p>Second paragraph<br>with a break.</p>"
)
BODY = (
    b'{"@context":"https://www.w3.org/ns/activitystreams","id":"https://r.example/a/1",'
    b'"type":"Create","actor":"https://r.example/u/a","object":{"type":"Note","content":"hi"}}'
)


def per_call(fn: Callable[[], object], n: int) -> float:
    fn()
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    n = parser.parse_args().n

    private_pem, public_pem = generate_keypair()
    private = load_private(private_pem)
    public = load_public(public_pem)
    key_id = "https://r.example/u/a#main-key"
    url = "https://l.example/users/alice/inbox"
    resolved = ResolvedKey(owner="https://r.example/u/a", public_key=public)

    async def resolve(key_id: str, refresh: bool) -> ResolvedKey:
        return resolved

    headers = sign_request("POST", url, {"Content-Type": "application/activity+json"}, BODY,
                           key_id, private)  # fmt: skip
    loop = asyncio.new_event_loop()

    async def verify_many(count: int) -> float:
        await verify_request("POST", "/users/alice/inbox", headers, BODY, resolve)
        start = time.perf_counter()
        for _ in range(count):
            await verify_request("POST", "/users/alice/inbox", headers, BODY, resolve)
        return (time.perf_counter() - start) / count * 1e6

    def sign() -> None:
        sign_request("POST", url, {"Content-Type": "application/activity+json"}, BODY,
                     key_id, private)  # fmt: skip

    def pem_private() -> None:
        serialization.load_pem_private_key(private_pem.encode(), password=None)

    def pem_public() -> None:
        serialization.load_pem_public_key(public_pem.encode())

    doc = {"@context": DEFAULT_CONTEXT, "type": "Note"}
    rows = [
        ("sign (RSA-2048, POST with digest)", per_call(sign, n)),
        ("verify (cached key object)", loop.run_until_complete(verify_many(n))),
        ("PEM load, private (uncached)", per_call(pem_private, max(20, n // 100))),
        ("PEM load, public (uncached)", per_call(pem_public, n)),
        ("load_private (lru-cached)", per_call(lambda: load_private(private_pem), n)),
        ("sanitize_html (typical status)", per_call(lambda: sanitize_html(STATUS_HTML), n * 5)),
        ("html_to_text (typical status)", per_call(lambda: html_to_text(STATUS_HTML), n * 5)),
        ("needs_jsonld (Mastodon context)", per_call(lambda: needs_jsonld(doc), n * 5)),
    ]
    loop.close()
    width = max(len(name) for name, _ in rows)
    for name, micros in rows:
        print(f"{name:<{width}}  {micros:10.1f} µs")


if __name__ == "__main__":
    main()
