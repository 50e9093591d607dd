"""WebFinger (RFC 7033) and host-meta (RFC 6415) documents for our accounts."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from activitypub.urls import Urls
from activitypub.vocab import ACTIVITY_JSON, LD_JSON

PROFILE_PAGE_REL = "http://webfinger.net/rel/profile-page"


def host_of(domain: str) -> str:
    """``domain`` without its ``:port`` (an IPv6 literal keeps its brackets)."""
    host, sep, port = domain.rpartition(":")
    if sep and port.isdigit() and not host.endswith(":"):
        return host
    return domain


def instance_actor_aliases(domain: str) -> frozenset[str]:
    """Older names of the instance actor that WebFinger still answers for (lowercase):
    the domain (what its preferredUsername used to be, as on Mastodon before 4.x) and the
    host without its port. Local user names can never take them (services/users.py)."""
    return frozenset({domain.lower(), host_of(domain).lower()})


def parse_resource(resource: str, domain: str, urls: Urls) -> str | None:
    """The local username a WebFinger ``resource`` names, or None if it is not ours.

    Accepts ``acct:user@domain``, ``user@domain``, ``@user@domain`` and our actor or
    profile-page URLs. ``domain`` compares case-insensitively and includes the port.
    Returns ``""`` for the instance actor's URL and for our origin (FEP-d556: server-level
    actor discovery by the server's URL).
    """
    text = unquote(resource.strip())
    if "\x00" in text:  # no name holds one (and PostgreSQL's text cannot)
        return None
    if text.startswith(("http://", "https://")):
        for prefix in (urls.actor(""), urls.profile_page("")):
            if text.startswith(prefix):
                name = text[len(prefix) :].strip("/")
                return name if name and "/" not in name else None
        if text.rstrip("/") in (urls.instance_actor, urls.base):
            return ""
        return None
    if text.startswith("acct:"):
        text = text[5:]
    text = text.lstrip("@")
    user, sep, host = text.rpartition("@")
    if not sep or not user or host.lower() != domain.lower():
        return None
    return user


def jrd(username: str, domain: str, actor_uri: str, profile_url: str) -> dict[str, Any]:
    return {
        "subject": f"acct:{username}@{domain}",
        "aliases": [actor_uri, profile_url],
        "links": [
            {"rel": PROFILE_PAGE_REL, "type": "text/html", "href": profile_url},
            {"rel": "self", "type": ACTIVITY_JSON, "href": actor_uri},
            {"rel": "self", "type": LD_JSON, "href": actor_uri},
        ],
    }


def host_meta_xml(base_url: str) -> str:
    template = f"{base_url}/.well-known/webfinger?resource={{uri}}"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
        f'  <Link rel="lrdd" type="application/xrd+xml" template="{template}"/>\n'
        "</XRD>\n"
    )


def host_meta_json(base_url: str) -> dict[str, Any]:
    return {
        "links": [
            {
                "rel": "lrdd",
                "type": "application/jrd+json",
                "template": f"{base_url}/.well-known/webfinger?resource={{uri}}",
            }
        ]
    }
