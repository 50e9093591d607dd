"""Plain text → status HTML, as Mastodon renders it: escaped text, linkified URLs,
@mentions and #hashtags in any script, paragraphs and line breaks.

``parse`` finds the entities (pure); ``to_html`` renders them with resolved mentions (pure);
``render`` resolves mentions against the store (and through federation for unknown remote
accounts) and returns the HTML with the mentioned accounts and tag names.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from html import escape
from typing import Literal

from policy.text import tag_key
from storage.models import Account
from storage.statuses import TagName

# Links that carry their scheme, as Mastodon linkifies (twitter-text as Mastodon patches it,
# ``extract_url_without_protocol: false``): "example.com" stays text. Any host links, also ones
# no TLD list knows (localhost:8080, an IP, a new gTLD); see bench/text.py for why this is not
# bleach's linkifier. A URL ends at whitespace, '<', '>', '"' and the invisible direction marks
# and joiners that Persian and Arabic text carries around Latin runs.
_SCHEMES = frozenset({"http", "https", "dat", "dweb", "ipfs", "ipns", "ssb", "gopher", "gemini"})
# Scanned from "://" (a literal the regex engine finds fast), the scheme read back from there.
_URL_REST_RE = re.compile(r"://[^\s<>\"\u3000\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]+")
# Only an ASCII letter or digit (or one of these) glues a scheme to the word before it.
_URL_GLUE = frozenset("@$#/_＠＃")
# Punctuation that ends a sentence rather than a URL: ASCII, Persian/Arabic, CJK, quotes.
_TRAILING = frozenset(".,;:!?'\"*~|…،؛؟۔«»“”‘’「」『』。、，！？；：")
_CLOSERS = {")": "(", "]": "[", "}": "{"}
_SHOWN_PREFIX_RE = re.compile(r"https?://(?:www\.)?")
_MENTION_RE = re.compile(
    r"(?<![=/\w@])@([A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?)"
    r"(?:@([A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::\d{1,5})?))?"
)
_TAG_JOINERS = "·\u200c\u200d"
_LINK_REL = "nofollow noopener noreferrer"


@dataclass(frozen=True, slots=True)
class Entity:
    kind: Literal["url", "mention", "hashtag"]
    start: int
    end: int
    value: str  # the URL, "user" or "user@host", or the tag as written (no '#')


@dataclass(frozen=True, slots=True)
class Rendered:
    html: str
    mentions: list[Account] = field(default_factory=list)
    tags: list[TagName] = field(default_factory=list)


def tag_char(ch: str) -> bool:
    """A character that may continue a hashtag: letters, digits, marks, '_' and joiners."""
    return ch.isalnum() or ch == "_" or ch in _TAG_JOINERS or unicodedata.category(ch)[0] == "M"


def _hashtags(text: str, start: int, end: int) -> list[Entity]:
    found = []
    i = start
    while i < end:
        i = text.find("#", i, end)
        if i < 0:
            break
        prev = text[i - 1] if i > 0 else ""
        if prev and (prev.isalnum() or prev in "=/)&_#"):
            i += 1
            continue
        j = i + 1
        while j < end and tag_char(text[j]):
            j += 1
        name = text[i + 1 : j].rstrip(_TAG_JOINERS)
        # A tag needs a letter: "#1" is a number, not a hashtag.
        if name and any(unicodedata.category(c)[0] == "L" for c in name):
            found.append(Entity("hashtag", i, i + 1 + len(name), name))
        i = max(j, i + 1)
    return found


def _url_end(url: str) -> str:
    """Drop trailing punctuation, and closing brackets that have no opening one inside."""
    while url:
        last = url[-1]
        if last in _TRAILING or (last in _CLOSERS and url.count(_CLOSERS[last]) < url.count(last)):
            url = url[:-1]
        else:
            break
    return url


def _urls(text: str) -> list[Entity]:
    found = []
    for m in _URL_REST_RE.finditer(text):
        start = m.start()
        while start > 0 and text[start - 1].isascii() and text[start - 1].isalpha():
            start -= 1
        if text[start : m.start()].lower() not in _SCHEMES:
            continue
        before = text[start - 1] if start else ""
        if before in _URL_GLUE or (before.isascii() and before.isdigit()):
            continue
        url = _url_end(text[start : m.end()])
        host = m.start() - start + 3
        # A host starts with a letter or digit in any script, or is an IPv6 literal.
        if len(url) > host and (url[host].isalnum() or url[host] == "["):
            found.append(Entity("url", start, start + len(url), url))
    return found


def parse(text: str) -> list[Entity]:
    """URLs first (a '#' inside a URL is its fragment), then mentions and hashtags between them."""
    urls = _urls(text)
    entities: list[Entity] = list(urls)
    gaps = []
    pos = 0
    for u in urls:
        gaps.append((pos, u.start))
        pos = u.end
    gaps.append((pos, len(text)))
    for gap_start, gap_end in gaps:
        segment = text[gap_start:gap_end]
        mentions = []
        for m in _MENTION_RE.finditer(segment):
            value = m.group(1) + (f"@{m.group(2)}" if m.group(2) else "")
            mentions.append(Entity("mention", gap_start + m.start(), gap_start + m.end(), value))
        entities.extend(mentions)
        taken = [(e.start, e.end) for e in mentions]
        for tag in _hashtags(text, gap_start, gap_end):
            if not any(s <= tag.start < e for s, e in taken):
                entities.append(tag)
    entities.sort(key=lambda e: e.start)
    return entities


def normalize_tag_display(name: str) -> str:
    return unicodedata.normalize("NFC", name)


def _link_url(url: str) -> str:
    # As Mastodon: hide "http(s)://" and "www.", show 30 characters, hide the rest.
    prefix = m.group(0) if (m := _SHOWN_PREFIX_RE.match(url)) else ""
    rest = url[len(prefix) :]
    shown, hidden = rest[:30], rest[30:]
    ellipsis = ' class="ellipsis"' if hidden else ""
    return (
        f'<a href="{escape(url)}" target="_blank" rel="{_LINK_REL}" translate="no">'
        f'<span class="invisible">{escape(prefix)}</span>'
        f"<span{ellipsis}>{escape(shown)}</span>"
        f'<span class="invisible">{escape(hidden)}</span></a>'
    )


def _paragraphs(html_text: str) -> str:
    blocks = [b for b in re.split(r"\n{2,}", html_text.strip("\n")) if b.strip()]
    if not blocks:
        return ""
    return "".join("<p>" + b.replace("\n", "<br />") + "</p>" for b in blocks)


def to_html(
    text: str,
    entities: list[Entity],
    mentions: Mapping[str, Account],
    *,
    tag_url: Callable[[str], str],
) -> str:
    """Render with ``mentions`` mapping the mention value (as written, lowercased) to accounts."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    out = []
    pos = 0
    for e in entities:
        out.append(escape(text[pos : e.start], quote=False))
        raw = text[e.start : e.end]
        if e.kind == "url":
            out.append(_link_url(e.value))
        elif e.kind == "mention":
            account = mentions.get(e.value.lower())
            if account is None:
                out.append(escape(raw, quote=False))
            else:
                href = account.url or account.uri
                out.append(
                    f'<span class="h-card" translate="no"><a href="{escape(href)}" class="u-url mention">'
                    f"@<span>{escape(account.username)}</span></a></span>"
                )
        else:
            name = normalize_tag_display(e.value)
            out.append(
                f'<a href="{escape(tag_url(name))}" class="mention hashtag" rel="tag">'
                f"#<span>{escape(name)}</span></a>"
            )
        pos = e.end
    out.append(escape(text[pos:], quote=False))
    return _paragraphs("".join(out))


Resolver = Callable[[str, str], Awaitable[Account | None]]


async def render(
    text: str,
    *,
    local_domain: str,
    resolve: Resolver,
    tag_url: Callable[[str], str],
) -> Rendered:
    """Render status text; ``resolve(username, domain)`` finds accounts ('' domain = local)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    entities = parse(text)
    resolved: dict[str, Account] = {}
    accounts: dict[int, Account] = {}
    for e in entities:
        if e.kind != "mention" or e.value.lower() in resolved:
            continue
        username, _, domain = e.value.partition("@")
        if domain.lower() == local_domain.lower():
            domain = ""
        account = await resolve(username, domain.lower())
        if account is not None:
            resolved[e.value.lower()] = account
            accounts.setdefault(account.id, account)
    # One tag per key, as first written: "#كتاب #کتاب" is one tag.
    tags: dict[str, TagName] = {}
    for e in entities:
        if e.kind == "hashtag":
            name = normalize_tag_display(e.value)
            tags.setdefault(tag_key(name), TagName(tag_key(name), name))
    html_out = to_html(text, entities, resolved, tag_url=tag_url)
    return Rendered(html=html_out, mentions=list(accounts.values()), tags=list(tags.values()))


def plain_to_html(text: str) -> str:
    """Escaped paragraphs and line breaks with linkified URLs (profile notes, field values)."""
    entities = [e for e in parse(text) if e.kind == "url"]
    return to_html(text, entities, {}, tag_url=lambda n: n)
