"""Link preview cards: the first link of a status (local or remote) becomes a card, fetched
by the worker, never in a request.

``queue_card`` picks the link as Mastodon does (no mention, hashtag or microformat links,
no links to the status's own media or to this instance, http(s) only) and queues its URL;
``CardWorker`` fetches the page through the SSRF guard (every redirect hop checked, the
policy's fetch check on each host) with a size and a time limit, reads OpenGraph, Twitter
and plain HTML metadata and a discovered oEmbed document with lxml, and stores the card.
Its image goes to the remote media cache (re-encoded like uploads; ``[media]
cache_remote`` and ``reject_media`` apply there). The statuses that show the card get a
new revision and a ``status.updated`` event, so streams send ``status.update``.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import aiohttp
import orjson
from yarl import URL

from activitypub.errors import RefusedAddress
from activitypub.netguard import Scheme, check_url
from fedinode.config import Config
from fedinode.services.media_cache import HostRefusal, Refused, Transient, next_try_at
from storage import events
from storage.media_cache import WantedMedia
from storage.models import MediaAttachment, Status
from storage.preview_cards import FETCHED, CardContent, PreviewCard
from storage.store import Store

log = logging.getLogger("fedinode.cards")

MAX_REDIRECTS = 3
MAX_URL_LENGTH = 2048
OEMBED_MAX_BYTES = 65_536
BATCH = 8
IDLE_SECONDS = 5.0
_SKIPPED_CLASSES = ("mention", "hashtag", "u-url", "h-card")
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_JSON_TYPES = frozenset({"application/json", "application/json+oembed", "text/json"})
_CARD_TYPES = frozenset({"link", "photo", "video", "rich"})


# -- which link ------------------------------------------------------------------------------


def first_link(content: str, *, local_host: str, skip_urls: frozenset[str]) -> str | None:
    """The URL of the first link in a status's HTML that deserves a card, normalised."""
    if "<a" not in content:
        return None
    import lxml.html  # on first use: a process that never sees a link does not hold lxml

    try:
        root = _fragment_body(content)
    except (ValueError, lxml.etree.ParserError):
        return None
    for a in root.iter("a"):
        href = (a.get("href") or "").strip()
        classes = (a.get("class") or "").split()
        rel = (a.get("rel") or "").split()
        text = _string_value(a).strip()
        if not href or "tag" in rel or any(c in _SKIPPED_CLASSES for c in classes):
            continue
        if text.startswith(("#", "@")) or href in skip_urls or len(href) > MAX_URL_LENGTH:
            continue
        try:
            url = URL(href)
        except ValueError:
            continue
        if url.scheme not in ("http", "https") or not url.host:
            continue
        if (url.host_port_subcomponent or "").lower() == local_host:
            continue
        return str(url.with_fragment(None))
    return None


def _fragment_body(content: str) -> Any:
    """The element whose descendants are the fragment's, as ``lxml.html.fragment_fromstring(
    content, create_parent="div")`` parses it, with lxml's plain elements: the lxml.html
    parser calls back into Python to pick each element's class (a third of a status's
    parse), and the fragment is moved into a new parent. Whatever lxml.html would treat
    otherwise (a whole document, a parse without one body) goes through it unchanged."""
    import lxml.html
    from lxml import etree

    global _PLAIN_HTML_PARSER
    if _looks_like_full_html(content) is None:
        if _PLAIN_HTML_PARSER is None:
            _PLAIN_HTML_PARSER = etree.HTMLParser()
        doc = etree.fromstring(f"<html><body>{content}</body></html>", _PLAIN_HTML_PARSER)
        if doc is not None and doc.tag == "html":
            bodies = [e for e in doc if e.tag == "body"]
            if len(bodies) == 1:
                return bodies[0]
    return lxml.html.fragment_fromstring(content, create_parent="div")


_PLAIN_HTML_PARSER: Any = None
_looks_like_full_html = re.compile(r"^\s*<(?:html|!doctype)", re.I).match  # as lxml.html's


def _string_value(element: Any) -> str:
    """``HtmlElement.text_content()`` (the XPath string value) of any lxml element."""
    global _STRING_VALUE
    if _STRING_VALUE is None:
        from lxml import etree

        _STRING_VALUE = etree.XPath("string()")
    return str(_STRING_VALUE(element))


_STRING_VALUE: Any = None


@lru_cache(maxsize=8)
def _host_of(base_url: str) -> str:
    """This instance's host (and port) from its base URL: parsed once, not per status."""
    return (URL(base_url).host_port_subcomponent or "").lower()


async def queue_card(
    store: Store,
    config: Config,
    status: Status,
    *,
    new: bool = False,
    media: list[MediaAttachment] | None = None,
) -> None:
    """Give a new or edited status the card of its first link (queued when new); a failure
    here fails nothing else. A ``new`` status that links nothing costs nothing (it has no
    card to take away). ``media``: the status's attachments, when the caller read them."""
    if not config.media.preview_cards or status.reblog_of_id is not None:
        return
    if new and "<a" not in status.content:
        return
    try:
        local_host = _host_of(config.base_url)
        url = first_link(status.content, local_host=local_host, skip_urls=frozenset())
        if url is not None:
            # Links to the status's own attachments get no card: look again without them.
            if media is None:
                media = (await store.statuses.media_for([status.id])).get(status.id, [])
            skip = frozenset(
                u
                for m in media
                for u in (
                    m.remote_url,
                    f"{config.base_url}/media/{m.file_path}" if m.file_path else "",
                )
                if u
            )
            if skip:
                url = first_link(status.content, local_host=local_host, skip_urls=skip)
        if url is None and new:
            return
        card = await store.preview_cards.attach(status.id, url)
        if card is not None and card.state == FETCHED:
            await store.media_cache.enqueue(wanted_card_image(config, card))
    except Exception:
        log.exception("queueing the card of status %s failed", status.id)


def wanted_card_image(config: Config, card: PreviewCard) -> list[WantedMedia]:
    """A fetched card's image to cache: queued once fetched, and again when a status shows
    the card after its copy was evicted (the cache queues only what it does not hold)."""
    image = card.image_remote_url
    if not image or card.image_path or not config.media.cache_remote:
        return []
    return [WantedMedia("card", card.id, image, (URL(image).host_port_subcomponent or "").lower())]


# -- fetching --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PageLimits:
    scheme: Scheme
    allow_private: bool
    page_max_bytes: int
    timeout_seconds: float
    attempts: int

    @classmethod
    def from_config(cls, config: Config) -> PageLimits:
        return cls(
            # Linked pages are any web page, plain http included (Mastodon fetches those
            # too); the guard still checks every address, resolved ones included.
            scheme="http",
            allow_private=config.federation.allow_private_addresses,
            page_max_bytes=config.media.card_page_max_bytes,
            timeout_seconds=config.media.card_fetch_timeout_seconds,
            attempts=config.media.remote_fetch_attempts,
        )


async def fetch_capped(
    session: aiohttp.ClientSession,
    url: str,
    limits: PageLimits,
    host_refusal: HostRefusal,
    *,
    types: frozenset[str],
    max_bytes: int,
) -> tuple[URL, str, bytes]:
    """GET a document of one of ``types``: (final URL, charset, body). Every hop is checked
    (address and policy); larger than ``max_bytes`` is refused, whatever the headers say."""
    try:
        current = check_url(url, limits.scheme, limits.allow_private)
    except RefusedAddress as exc:
        raise Refused(f"address refused: {exc}") from None
    timeout = aiohttp.ClientTimeout(total=limits.timeout_seconds)
    headers = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"}
    for _ in range(MAX_REDIRECTS + 1):
        reason = host_refusal((current.host_port_subcomponent or "").lower())
        if reason is not None:
            raise Refused(reason)
        try:
            async with session.get(
                current, allow_redirects=False, timeout=timeout, headers=headers
            ) as response:
                if response.status in (301, 302, 303, 307, 308):
                    location = response.headers.get("Location")
                    if not location:
                        raise Refused("redirect without Location")
                    try:
                        current = check_url(
                            current.join(URL(location)), limits.scheme, limits.allow_private
                        )
                    except (RefusedAddress, ValueError) as exc:
                        raise Refused(f"redirect refused: {exc}") from None
                    continue
                if 400 <= response.status < 500:
                    raise Refused(f"the page answered {response.status}")
                if response.status != 200:
                    raise Transient(f"the page answered {response.status}")
                if response.content_type.lower() not in types:
                    raise Refused(f"content type {response.content_type!r} has no card")
                if response.content_length is not None and response.content_length > max_bytes:
                    raise Refused(f"{response.content_length} bytes is over the {max_bytes} limit")
                body = bytearray()
                async for chunk in response.content.iter_chunked(65536):
                    body += chunk
                    if len(body) > max_bytes:
                        raise Refused(f"more than the {max_bytes} bytes limit")
                return current, response.charset or "", bytes(body)
        except RefusedAddress as exc:
            raise Refused(f"address refused: {exc}") from None
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise Transient(f"fetch failed: {exc!r}") from None
    raise Refused("too many redirects")


# -- reading a page --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PageMeta:
    content: CardContent | None
    oembed_url: str


def _clip(value: object, limit: int) -> str:
    return " ".join(str(value).split())[:limit] if value is not None else ""


def _absolute(base: URL, value: str) -> str:
    if not value:
        return ""
    try:
        url = base.join(URL(value.strip()))
    except ValueError:
        return ""
    return str(url) if url.scheme in ("http", "https") and url.host else ""


def _int(value: object) -> int:
    try:
        number = int(float(str(value)))
    except (TypeError, ValueError):
        return 0
    return number if 0 < number < 100_000 else 0


def _time(value: str) -> int | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return int(parsed.timestamp() * 1000) if parsed.tzinfo is not None else None


def read_page(body: bytes, charset: str, page_url: URL) -> PageMeta:
    """OpenGraph, Twitter and plain HTML metadata, and the oEmbed link, of a page."""
    import lxml.html

    try:
        parser = lxml.html.HTMLParser(encoding=charset or None, no_network=True)
        root = lxml.html.document_fromstring(body, parser=parser)
    except (ValueError, LookupError, lxml.etree.ParserError):
        return PageMeta(None, "")
    meta: dict[str, str] = {}
    for tag in root.iter("meta"):
        key = (tag.get("property") or tag.get("name") or "").strip().lower()
        value = tag.get("content")
        if key and value is not None and key not in meta:
            meta[key] = value.strip()
    oembed = ""
    canonical = ""
    for link in root.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").lower()
        if "alternate" in rel and kind == "application/json+oembed" and not oembed:
            oembed = _absolute(page_url, link.get("href") or "")
        if "canonical" in rel and not canonical:
            canonical = _absolute(page_url, link.get("href") or "")
    titles = root.xpath("//title/text()")
    title = meta.get("og:title") or meta.get("twitter:title") or (titles[0] if titles else "")
    language = (root.get("lang") or meta.get("og:locale") or "").replace("_", "-").split("-")[0]
    if not _clip(title, 200):
        return PageMeta(None, oembed)
    image = meta.get("og:image:secure_url") or meta.get("og:image") or meta.get("twitter:image")
    content = CardContent(
        title=_clip(title, 200),
        description=_clip(
            meta.get("og:description")
            or meta.get("twitter:description")
            or meta.get("description", ""),
            500,
        ),
        author_name=_clip(meta.get("author") or meta.get("article:author", ""), 200),
        provider_name=_clip(meta.get("og:site_name", ""), 200),
        image_remote_url=_absolute(page_url, image or ""),
        language=_clip(language.lower(), 8) if language.isascii() else "",
        published_at=_time(meta.get("article:published_time", "")),
    )
    return PageMeta(content, oembed)


_IFRAME_ATTRIBUTES = {"src", "width", "height", "allowfullscreen", "frameborder", "allow", "title"}


def _embed_html(html: str) -> str:
    """An oEmbed ``html`` reduced to one https iframe (as Mastodon keeps it), or ""."""
    import nh3

    clean = nh3.clean(
        html,
        tags={"iframe"},
        attributes={"iframe": _IFRAME_ATTRIBUTES},
        url_schemes={"https"},
        link_rel=None,
    ).strip()
    if (
        not clean.startswith("<iframe")
        or clean.count("<iframe") != 1
        or 'src="https://' not in clean
    ):
        return ""
    return clean


def read_oembed(body: bytes, base: CardContent | None, page_url: URL) -> CardContent | None:
    """The card an oEmbed document describes, over what the page itself said."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        return base
    if not isinstance(doc, dict):
        return base
    kind = str(doc.get("type", "link"))
    title = _clip(doc.get("title"), 200) or (base.title if base else "")
    if not title or kind not in _CARD_TYPES:
        return base
    html = _embed_html(str(doc.get("html", ""))) if kind in ("video", "rich") else ""
    if kind in ("video", "rich") and not html:
        kind = "link"
    image = _absolute(page_url, str(doc.get("thumbnail_url") or ""))
    if kind == "photo":
        image = _absolute(page_url, str(doc.get("url") or "")) or image
    fallback = base or CardContent(title=title)
    return CardContent(
        title=title,
        type=kind,
        description=fallback.description,
        author_name=_clip(doc.get("author_name"), 200) or fallback.author_name,
        author_url=_absolute(page_url, str(doc.get("author_url") or "")),
        provider_name=_clip(doc.get("provider_name"), 200) or fallback.provider_name,
        provider_url=_absolute(page_url, str(doc.get("provider_url") or "")),
        html=html,
        width=_int(doc.get("width")) if kind != "link" else 0,
        height=_int(doc.get("height")) if kind != "link" else 0,
        language=fallback.language,
        published_at=fallback.published_at,
        image_remote_url=image or fallback.image_remote_url,
    )


# -- the worker ------------------------------------------------------------------------------


class CardWorker:
    """Fetches queued pages and stores their cards."""

    def __init__(
        self,
        store: Store,
        config: Config,
        session: aiohttp.ClientSession,
        host_refusal: HostRefusal,
    ) -> None:
        self.store = store
        self.config = config
        self.session = session
        self.host_refusal = host_refusal
        self.limits = PageLimits.from_config(config)

    async def run(self) -> None:
        while True:
            try:
                done = await self.run_once()
            except Exception:
                log.exception("preview card round failed")
                done = 0
            if not done:
                await asyncio.sleep(IDLE_SECONDS)

    async def run_once(self) -> int:
        cards = await self.store.preview_cards.claim(BATCH)
        if cards:
            await asyncio.gather(*(self.handle(card) for card in cards))
        return len(cards)

    async def drain(self) -> int:
        """Run until nothing is due (tests, and a CLI run)."""
        total = 0
        while n := await self.run_once():
            total += n
        return total

    async def _card_for(self, url: str) -> CardContent:
        final, charset, body = await fetch_capped(
            self.session,
            url,
            self.limits,
            self.host_refusal,
            types=_HTML_TYPES,
            max_bytes=self.limits.page_max_bytes,
        )
        page = await asyncio.to_thread(read_page, body, charset, final)
        content = page.content
        if page.oembed_url:
            try:
                where, _, doc = await fetch_capped(
                    self.session,
                    page.oembed_url,
                    self.limits,
                    self.host_refusal,
                    types=_JSON_TYPES,
                    max_bytes=OEMBED_MAX_BYTES,
                )
                content = read_oembed(doc, content, where)
            except (Refused, Transient) as exc:
                log.info("no oEmbed for %s: %s", url, exc)
        if content is None:
            raise Refused("the page has no title")
        return content

    async def handle(self, card: PreviewCard) -> None:
        try:
            content = await self._card_for(card.url)
        except Refused as exc:
            log.info("no card for %s: %s", card.url, exc)
            await self.store.preview_cards.retry(card, str(exc), retry_at=None)
            return
        except Transient as exc:
            at = next_try_at(card.attempts, self.limits.attempts)
            await self.store.preview_cards.retry(card, str(exc), retry_at=at)
            return
        shown_by = await self.store.preview_cards.fetched(card, content)
        image = content.image_remote_url
        if image and self.config.media.cache_remote:
            host = (URL(image).host_port_subcomponent or "").lower()
            await self.store.media_cache.enqueue([WantedMedia("card", card.id, image, host)])
        await self._announce(shown_by)

    async def _announce(self, status_ids: list[int]) -> None:
        # As Mastodon does, a status whose card arrived is sent again (status.update).
        for status_id in status_ids:
            try:
                await events.publish(self.store.db, "status.updated", status_id=status_id)
            except Exception:
                log.warning("announcing the card of status %s failed", status_id, exc_info=True)
