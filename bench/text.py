"""Linkifying local plain text: fedinode's own linkifier against bleach's, in µs per status
and in what each one links.

A typical status mixes Persian and English with links, a mention and hashtags. Rows:

* ``own: URL scan`` / ``own: parse`` / ``own: to_html(parse)`` — fedinode.services.text, the
  URL scan alone, all entities, and the whole status rendered to Mastodon's HTML;
* ``bleach: url_re scan`` — bleach's pattern from ``build_url_re`` with the full IANA TLD list
  (from hypothesis' vendored copy), only scanning, keeping the URLs that carry a scheme;
* ``bleach: linkify`` — ``bleach.linkifier.Linker`` with that pattern on the escaped text: URLs
  only, before mentions, hashtags and Mastodon's link markup, which bleach's callbacks cannot
  produce (their link text is escaped, so no ``<span class="invisible">``).

Then a table of cases: what Mastodon links, what fedinode means to link (the same, except that
any host with a scheme links, where Mastodon wants a TLD it knows), and whether each linkifier
does that.

Run from the repository root: python bench/text.py [--iterations N]
(the bleach rows need ``pip install bleach``; it is not a dependency of fedinode.)
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fedinode.services import text as text_service
from fedinode.services.text import parse, to_html

STATUS = (
    "سلام @bob@example.com! این مقاله درباره‌ی فدیورس خواندنی است: "
    "https://fa.wikipedia.org/wiki/فدیورس، و نسخه‌ی انگلیسی "
    "(https://en.wikipedia.org/wiki/Fediverse). "
    "More at https://joinmastodon.org/servers?language=fa and on the blog, "
    "https://blog.example/2026/11/why-we-federate/ #فدیورس #Fediverse #Mastodon\n\n"
    "@alice what do you think?"
)

# (text, whether Mastodon links it, the URL fedinode links there or None)
CASES: list[tuple[str, bool, str | None]] = [
    ("https://example.com/a", True, "https://example.com/a"),
    ("example.com", False, None),
    ("www.example.com/path", False, None),
    ("https://mastodon.social/@Gargron", True, "https://mastodon.social/@Gargron"),
    ("http://localhost:8080/@alice", False, "http://localhost:8080/@alice"),
    ("https://مثال.ایران/صفحه", True, "https://مثال.ایران/صفحه"),
    # Mastodon keeps the Persian comma in the link; it ends the sentence.
    ("ببینید https://example.com/fa، خوب است", True, "https://example.com/fa"),
    ("Look: https://example.com/x.", True, "https://example.com/x"),
    ("(https://en.wikipedia.org/wiki/Go_(game))", True, "https://en.wikipedia.org/wiki/Go_(game)"),
    ("javascript:alert(1)", False, None),
]


def _tag_url(tag: str) -> str:
    return f"https://local.test/tags/{tag}"


def own_urls(text: str) -> list[str]:
    return [e.value for e in text_service._urls(text)]


def measure(fn: Callable[[str], Any], iterations: int) -> float:
    """Best of seven rounds, µs per call."""
    best = float("inf")
    for _ in range(7):
        start = time.perf_counter()
        for _ in range(iterations):
            fn(STATUS)
        best = min(best, (time.perf_counter() - start) / iterations)
    return best * 1e6


def bleach_functions() -> tuple[Callable[[str], list[str]], Callable[[str], str]] | None:
    try:
        from bleach.linkifier import Linker, build_url_re
    except ImportError:
        return None
    from hypothesis.provisional import get_top_level_domains

    tlds = []
    for tld in get_top_level_domains():
        try:
            tlds.append(tld.lower().encode("ascii").decode("idna"))
        except UnicodeError:
            tlds.append(tld.lower())
    # Longest first, so "co" does not win over "com" inside the alternation.
    url_re = build_url_re(tlds=sorted(set(tlds), key=len, reverse=True))
    linker = Linker(url_re=url_re, parse_email=False)

    def scan(text: str) -> list[str]:
        return [m.group(0) for m in url_re.finditer(text) if "://" in m.group(0)]

    def linkify(text: str) -> str:
        return str(linker.linkify(escape(text, quote=False)))

    return scan, linkify


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--iterations", type=int, default=2000)
    n = parser.parse_args().iterations

    rows: list[tuple[str, Callable[[str], Any]]] = [
        ("own: URL scan", own_urls),
        ("own: parse", parse),
        ("own: to_html(parse)", lambda t: to_html(t, parse(t), {}, tag_url=_tag_url)),
    ]
    bleach = bleach_functions()
    if bleach is not None:
        scan, linkify = bleach
        rows += [("bleach: url_re scan", scan), ("bleach: linkify", linkify)]
    print(f"status: {len(STATUS)} characters, Persian and English, 4 URLs, 2 mentions, 3 tags")
    print(f"{'linkifier':<28} µs/status")
    for name, fn in rows:
        print(f"{name:<28} {measure(fn, n if 'linkify' not in name else max(n // 10, 1)):9.1f}")
    if bleach is None:
        print("(bleach is not installed: pip install bleach for its rows)")
        return

    print()
    print(f"{'case':<44} {'Mastodon':<9} {'fedinode':<9} {'own':<6} bleach")
    for text, mastodon_links, expected in CASES:
        want = [expected] if expected else []
        own_ok = own_urls(text) == want
        linked = linkify(text)
        if expected:
            bleach_ok = f'href="{escape(expected)}"' in linked and linked.count("<a ") == 1
        else:
            bleach_ok = "<a " not in linked
        shown = text if len(text) <= 42 else text[:41] + "…"
        mastodon = "link" if mastodon_links else "text"
        fedinode = "link" if expected else "text"
        print(f"{shown:<44} {mastodon:<9} {fedinode:<9} {'ok' if own_ok else 'WRONG':<6} "
              f"{'ok' if bleach_ok else 'WRONG'}")  # fmt: skip


if __name__ == "__main__":
    main()
