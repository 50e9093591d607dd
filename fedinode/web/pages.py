"""Server-rendered public pages: a profile at /@username and a status at /@username/:id.

No JavaScript. Content is sanitised again on the way out (it is stored sanitised, but a page
is the one place where a mistake would run in a visitor's browser), and every other value
is escaped. ActivityPub clients asking for JSON are sent to the actor or object URI.
"""

from __future__ import annotations

from functools import cache
from html import escape
from importlib import resources
from string import Template

from aiohttp import web

from activitypub.html import html_to_text, sanitize_html
from activitypub.vocab import accepts_activity_json
from fedinode import appkeys
from fedinode.api.schemas import iso
from fedinode.config import Config
from storage.models import Account, MediaAttachment, Status
from storage.paging import Page
from storage.store import Store

PUBLIC = ("public", "unlisted")
_DESCRIPTION_CHARS = 300
_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; img-src * data:; style-src 'unsafe-inline';"
    " base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "public, max-age=60",
    "Vary": "Accept",
}


@cache
def _template() -> Template:
    text = resources.files("fedinode.web").joinpath("page.html").read_text("utf-8")
    return Template(text)


def _short(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _DESCRIPTION_CHARS else flat[: _DESCRIPTION_CHARS - 1] + "…"


def _render(
    config: Config,
    *,
    title: str,
    description: str,
    url: str,
    activity_url: str,
    og_type: str,
    image: str | None,
    body: str,
    lang: str = "en",
) -> web.Response:
    og_image = f'<meta property="og:image" content="{escape(image)}">\n' if image else ""
    html = _template().substitute(
        lang=escape(lang),
        title=escape(title),
        description=escape(_short(description)),
        site_name=escape(config.instance.title),
        og_type=og_type,
        url=escape(url),
        activity_url=escape(activity_url),
        og_image=og_image,
        body=body,
    )
    return web.Response(text=html, content_type="text/html", charset="utf-8", headers=_HEADERS)


def _display_name(account: Account) -> str:
    return account.display_name.strip() or account.username


def _avatar(config: Config, account: Account) -> str:
    return account.avatar_url or f"{config.base_url}/static/avatar.png"


def _who(config: Config, account: Account) -> str:
    return (
        '<div class="who">'
        f'<img src="{escape(_avatar(config, account))}" alt="">'
        f'<div><div class="name" dir="auto">{escape(_display_name(account))}</div>'
        f'<div class="acct">@{escape(account.username)}@{escape(config.instance.domain)}</div></div>'
        "</div>"
    )


def _media(items: list[MediaAttachment], base_url: str) -> str:
    out = []
    for m in items:
        if m.type != "image":
            continue
        src = f"{base_url}/media/{m.preview_path or m.file_path}" if m.file_path else m.remote_url
        full = f"{base_url}/media/{m.file_path}" if m.file_path else m.remote_url
        if not src:
            continue
        out.append(
            f'<a href="{escape(full)}"><img src="{escape(src)}" alt="{escape(m.description)}"'
            ' loading="lazy"></a>'
        )
    return f'<div class="media">{"".join(out)}</div>' if out else ""


def _status_html(
    config: Config, status: Status, account: Account, media: list[MediaAttachment], link: bool
) -> str:
    content = f'<div class="content" dir="auto">{sanitize_html(status.content)}</div>'
    if status.spoiler_text:
        content = (
            f'<details><summary dir="auto">{escape(status.spoiler_text)}</summary>'
            f"{content}{_media(media, config.base_url)}</details>"
        )
    else:
        content += _media(media, config.base_url)
    page = config.base_url + f"/@{account.username}/{status.id}"
    when = iso(status.created_at) or ""
    stamp = f'<time datetime="{when}">{when[:16].replace("T", " ")}</time>'
    meta = f'<a href="{escape(page)}">{stamp}</a>' if link else stamp
    return f'<article class="card">{_who(config, account)}{content}<div class="meta">{meta}</div></article>'


async def _local_account(store: Store, username: str) -> Account:
    account = await store.accounts.by_handle(username, "")
    if account is None or account.suspended or await store.users.by_account(account.id) is None:
        raise web.HTTPNotFound()
    return account


async def profile_page(request: web.Request) -> web.StreamResponse:
    store = request.app[appkeys.STORE]
    config = request.app[appkeys.CONFIG]
    account = await _local_account(store, request.match_info["username"])
    if accepts_activity_json(request.headers.get("Accept")):
        raise web.HTTPFound(account.uri)
    statuses = await store.statuses.account_statuses(
        account.id, None, Page(limit=20), exclude_replies=True, exclude_reblogs=True
    )
    statuses = [s for s in statuses if s.visibility in PUBLIC]
    media = await store.statuses.media_for([s.id for s in statuses])
    header = (
        f'<img class="banner" src="{escape(account.header_url)}" alt="">'
        if account.header_url
        else ""
    )
    bio = sanitize_html(account.note)
    fields = "".join(
        f"<tr><th dir='auto'>{escape(str(f.get('name', '')))}</th>"
        f"<td dir='auto'>{sanitize_html(str(f.get('value', '')))}</td></tr>"
        for f in account.fields
        if isinstance(f, dict)
    )
    body = (
        f'<section class="card header">{header}{_who(config, account)}'
        f'<div class="content" dir="auto">{bio}</div>'
        + (f"<table>{fields}</table>" if fields else "")
        + f'<div class="counts"><span>{account.statuses_count} posts</span>'
        f"<span>{account.following_count} following</span>"
        f"<span>{account.followers_count} followers</span></div></section>"
        + "".join(
            _status_html(config, s, account, media.get(s.id, []), link=True) for s in statuses
        )
    )
    return _render(
        config,
        title=f"{_display_name(account)} (@{account.username}@{config.instance.domain})",
        description=html_to_text(account.note) or f"Posts by {_display_name(account)}",
        url=f"{config.base_url}/@{account.username}",
        activity_url=account.uri,
        og_type="profile",
        image=_avatar(config, account),
        body=body,
    )


async def status_page(request: web.Request) -> web.StreamResponse:
    store = request.app[appkeys.STORE]
    config = request.app[appkeys.CONFIG]
    account = await _local_account(store, request.match_info["username"])
    raw = request.match_info["id"]
    status = await store.statuses.get(int(raw)) if raw.isdigit() else None
    if (
        status is None
        or status.account_id != account.id
        or status.visibility not in PUBLIC
        or status.reblog_of_id is not None
    ):
        raise web.HTTPNotFound()
    if accepts_activity_json(request.headers.get("Accept")):
        raise web.HTTPFound(status.uri)
    media = (await store.statuses.media_for([status.id])).get(status.id, [])
    text = status.spoiler_text or html_to_text(status.content)
    image = None
    if media and media[0].type == "image" and not status.sensitive:
        first = media[0]
        image = (
            f"{config.base_url}/media/{first.file_path}" if first.file_path else first.remote_url
        )
    return _render(
        config,
        title=f"{_display_name(account)}: “{_short(text)[:80]}”",
        description=text,
        url=f"{config.base_url}/@{account.username}/{status.id}",
        activity_url=status.uri,
        og_type="article",
        image=image or _avatar(config, account),
        body=_status_html(config, status, account, media, link=False),
        lang=status.language or "en",
    )
