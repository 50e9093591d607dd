"""HTML of remote statuses: sanitising to Mastodon's allowed set, and plain-text rendering."""

from __future__ import annotations

import html as _html
import re
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import nh3

ALLOWED_TAGS = frozenset(
    {
        "p", "br", "span", "a", "del", "s", "pre", "code", "em", "strong", "b", "i", "u",
        "ul", "ol", "li", "blockquote", "h1", "h2", "h3", "h4", "h5", "sup", "sub",
    }
)  # fmt: skip
# Classes Mastodon's formatter relies on (microformats, mention/hashtag links, link shortening).
ALLOWED_CLASSES = frozenset({"h-card", "mention", "hashtag", "u-url", "invisible", "ellipsis"})
URL_SCHEMES = frozenset(
    {"http", "https", "dat", "dweb", "ipfs", "ipns", "ssb", "gopher", "xmpp", "magnet", "gemini"}
)
LINK_REL = "nofollow noopener noreferrer"

# Removed with their content, not just unwrapped.
_CLEAN_CONTENT_TAGS = frozenset({"script", "style", "template", "iframe", "object", "noscript"})


@cache
def _cleaner() -> nh3.Cleaner:
    # Built lazily, once: constructing the ammonia cleaner per call would dominate the cost.
    # nh3 is imported here too: a process that has sanitised nothing yet does not hold it.
    import nh3

    return nh3.Cleaner(
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(_CLEAN_CONTENT_TAGS),
        attributes={
            "a": {"href"},
            "ol": {"start", "reversed"},
            "li": {"value"},
        },
        allowed_classes={"a": set(ALLOWED_CLASSES), "span": set(ALLOWED_CLASSES)},
        set_tag_attribute_values={"a": {"target": "_blank"}},
        link_rel=LINK_REL,
        url_schemes=set(URL_SCHEMES),
        # Relative links in remote content would point at our own host.
        url_relative="deny",
        strip_comments=True,
    )


def sanitize_html(html: str) -> str:
    """Sanitise remote HTML to Mastodon's allowed tags, attributes, classes and schemes."""
    if not html:
        return ""
    return _cleaner().clean(html)


_DROP_RE = re.compile(
    r"<(script|style|template|noscript)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL
)
_BREAK_RE = re.compile(r"<br\s*/?>", re.IGNORECASE)
_PARA_END_RE = re.compile(r"</(p|h[1-6]|blockquote|pre|li|ul|ol)\s*>", re.IGNORECASE)
_TAG_RE = re.compile(r"<[^>]*>?")
_BLANK_LINES_RE = re.compile(r"\n{3,}")


def html_to_text(html: str) -> str:
    """Plain text of an HTML fragment (for search, keywords, previews); never raises."""
    if not html:
        return ""
    if "<" not in html and "&" not in html:
        return html.strip()
    text = _DROP_RE.sub("", html)
    text = _BREAK_RE.sub("\n", text)
    text = _PARA_END_RE.sub("\n\n", text)
    text = _TAG_RE.sub("", text)
    text = _html.unescape(text)
    text = _BLANK_LINES_RE.sub("\n\n", text)
    return text.strip()
