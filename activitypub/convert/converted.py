"""The text of a converted type (Article, Page, Image, Video, Audio, Event): its title,
summary, an event's time and place, its description and a link to the original."""

from __future__ import annotations

import html
import re
from typing import Any

from activitypub import vocab
from activitypub.convert.origins import authority_of
from activitypub.fields import as_list, content_of, first_str, parse_datetime
from activitypub.html import html_to_text, sanitize_html
from policy.activity import link_media_type


def page_url_from_as(obj: dict[str, Any], uri: str) -> str:
    """The original's web page: the text/html entry of ``url``, else the first entry that is
    not a file (a PeerTube MP4, a Funkwhale stream, the photo itself), else the id."""
    own_type = link_media_type(obj)
    file_type = own_type if own_type.split("/", 1)[0] in ("image", "video", "audio") else ""
    fallback = ""
    for entry in as_list(obj.get("url")):
        href: object = entry
        media_type = file_type
        if isinstance(entry, dict):
            href, media_type = entry.get("href"), link_media_type(entry)
        if not isinstance(href, str) or not authority_of(href):
            continue
        if media_type == "text/html":
            return href
        if not fallback and (not media_type or media_type.startswith("text/")):
            fallback = href
    return fallback or uri


def _first_text(obj: dict[str, Any], key: str) -> str:
    """``key`` as a string, else the first value of ``keyMap``; as plain text."""
    value = first_str(obj.get(key))
    if value is None:
        per_language = obj.get(f"{key}Map")
        if isinstance(per_language, dict):
            value = next((v for v in per_language.values() if isinstance(v, str) and v), None)
    return html_to_text(value or "")


def declared_language(obj: dict[str, Any]) -> str | None:
    """The key of ``nameMap``, or PeerTube's ``language: {identifier, name}``."""
    names = obj.get("nameMap")
    if isinstance(names, dict):
        found = next(
            (k for k, v in names.items() if isinstance(k, str) and isinstance(v, str)), None
        )
        if found:
            return found
    declared = obj.get("language")
    identifier = declared.get("identifier") if isinstance(declared, dict) else None
    return identifier if isinstance(identifier, str) and identifier else None


_BARE_URL_RE = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)


def _linked(text: str) -> str:
    """Escaped text whose bare http(s) URLs are links (trailing punctuation left out)."""
    out: list[str] = []
    last = 0
    for match in _BARE_URL_RE.finditer(text):
        url = match.group(0).rstrip(".,;:!?)]}")
        end = match.start() + len(url)
        out.append(html.escape(text[last : match.start()], quote=False))
        out.append(f'<a href="{html.escape(url)}">{html.escape(url, quote=False)}</a>')
        last = end
    out.append(html.escape(text[last:], quote=False))
    return "".join(out)


def _text_to_html(text: str) -> str:
    """Plain text (PeerTube's markdown is shown as written) → paragraphs and line breaks."""
    paragraphs = [p.strip("\n") for p in re.split(r"\n\s*\n", text.replace("\r\n", "\n"))]
    body = "".join(
        "<p>" + "<br>".join(_linked(line) for line in p.split("\n")) + "</p>"
        for p in paragraphs
        if p.strip()
    )
    return sanitize_html(body)


def _when(obj: dict[str, Any]) -> str:
    start = parse_datetime(obj.get("startTime"))
    if start is None:
        return ""
    when = start.strftime("%Y-%m-%d %H:%M")
    end = parse_datetime(obj.get("endTime"))
    if end is not None and end >= start:
        when += " – " + end.strftime("%Y-%m-%d %H:%M")
    return when + " UTC"


def _where(obj: dict[str, Any]) -> str:
    """An event's place: its name and address (Mobilizon's schema.org Place), as text."""
    parts: list[str] = []
    for place in as_list(obj.get("location"))[:1]:
        if isinstance(place, str):
            parts.append(place)
            continue
        if not isinstance(place, dict):
            continue
        parts.append(first_str(place.get("name")) or "")
        address = place.get("address")
        if isinstance(address, dict):
            for key in ("streetAddress", "addressLocality", "addressCountry"):
                parts.append(first_str(address.get(key)) or "")
        elif isinstance(address, str):
            parts.append(address)
    texts = [html_to_text(p).strip() for p in parts]
    return ", ".join(dict.fromkeys(t for t in texts if t))[:500]


def converted_content(obj: dict[str, Any], type_: str, url: str) -> str:
    """The text of an Article, Page, Image, Video, Audio or Event: its title, summary (and an
    event's time and place), its description, and a link to the original."""
    parts: list[str] = []
    title = _first_text(obj, "name")
    if title:
        parts.append(f"<p><strong>{html.escape(title, quote=False)}</strong></p>")
    summary = _first_text(obj, "summary")
    if summary:
        parts.append(_text_to_html(summary))
    if type_ == vocab.EVENT:
        parts.extend(
            f"<p>{html.escape(t, quote=False)}</p>" for t in (_when(obj), _where(obj)) if t
        )
    description = content_of(obj)
    if description:
        markdown = link_media_type(obj) == "text/markdown"
        parts.append(_text_to_html(description) if markdown else sanitize_html(description))
    link = html.escape(url, quote=True)
    parts.append(f'<p><a href="{link}">{link}</a></p>')
    return "".join(parts)
