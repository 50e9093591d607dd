"""Server-rendered public pages: the landing page at /, a profile at /@username, a status at
/@username/:id, a hashtag at /tags/:name, and the advertised /static/thumbnail.png.

No JavaScript. Content is sanitised again on the way out (it is stored sanitised, but a page
is the one place where a mistake would run in a visitor's browser), and every other value
is escaped. ActivityPub clients asking for JSON are sent to the actor or object URI.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from html import escape
from importlib import resources
from string import Template
from urllib.parse import quote

from aiohttp import web

from activitypub.convert import ordered_collection, ordered_page
from activitypub.html import html_to_text, sanitize_html
from activitypub.routes import S2S, ap_response
from activitypub.vocab import accepts_activity_json
from fedinode import appkeys
from fedinode.api.params import ctx_of
from fedinode.api.schemas import iso
from fedinode.config import Config
from fedinode.federation import federation_of
from fedinode.services import timelines
from fedinode.services.views import StatusView
from fedinode.web.i18n import direction
from policy.text import tag_key
from storage.ids import parse_id
from storage.models import OPEN_VISIBILITIES, Account, MediaAttachment, Status
from storage.paging import Page
from storage.store import Store

PUBLIC = OPEN_VISIBILITIES
_DESCRIPTION_CHARS = 300
TAG_PAGE_SIZE = 20
_RECENT_POSTS = 10
_MAX_TAG_CHARS = 200
# Clients known to work with this server (see README): name, where it runs, its home page.
APPS = (
    ("Tusky", "Android", "https://tusky.app/"),
    ("Ivory", "iPhone, iPad and Mac", "https://tapbots.com/ivory/"),
    ("Elk", "web", "https://elk.zone/"),
    ("Phanpy", "web", "https://phanpy.social/"),
    ("toot", "command line", "https://toot.bezdomni.net/"),
    ("Mastodon.py", "Python library", "https://github.com/halcy/Mastodon.py"),
)
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


def _instance_lang(config: Config) -> str:
    """The instance's first language: the language of its title, description and rules."""
    langs = config.instance.languages
    return langs[0] if langs and langs[0] else "en"


def _en(lang: str) -> str:
    """The attribute that marks this page's own (English) words on a page in another language."""
    return "" if lang.split("-")[0].lower() == "en" else ' lang="en"'


def _safe_url(url: str | None) -> str:
    """A peer's URL as a link target: only http(s), never ``javascript:`` and the like."""
    return url if url and url.startswith(("https://", "http://")) else ""


def _render(
    config: Config,
    *,
    title: str,
    description: str,
    url: str,
    activity_url: str | None,
    og_type: str,
    image: str | None,
    body: str,
    lang: str = "en",
    status: int = 200,
    noindex: bool = False,
) -> web.Response:
    og_image = f'<meta property="og:image" content="{escape(image)}">\n' if image else ""
    alternate = (
        f'<link rel="alternate" type="application/activity+json" href="{escape(activity_url)}">\n'
        if activity_url
        else ""
    )
    html = _template().substitute(
        lang=escape(lang),
        dir=direction(lang),
        title=escape(title),
        description=escape(_short(description)),
        site_name=escape(config.instance.title),
        og_type=og_type,
        url=escape(url),
        alternate=alternate,
        og_image=og_image,
        robots='<meta name="robots" content="noindex">\n' if noindex else "",
        body=body,
    )
    return web.Response(
        text=html, status=status, content_type="text/html", charset="utf-8", headers=_HEADERS
    )


def _display_name(account: Account) -> str:
    return account.display_name.strip() or account.username


def _avatar(config: Config, account: Account) -> str:
    return account.avatar_url or f"{config.base_url}/static/avatar.png"


def _profile_url(config: Config, account: Account) -> str:
    if account.local:
        return f"{config.base_url}/@{account.username}"
    return _safe_url(account.url) or _safe_url(account.uri)


def _who(config: Config, account: Account) -> str:
    domain = account.domain or config.instance.domain
    name = f'<div class="name" dir="auto">{escape(_display_name(account))}</div>'
    profile = _profile_url(config, account)
    if profile:
        name = f'<a href="{escape(profile)}">{name}</a>'
    return (
        '<div class="who">'
        f'<img src="{escape(_avatar(config, account))}" alt="">'
        f"<div>{name}"
        f'<div class="acct">@{escape(account.username)}@{escape(domain)}</div></div>'
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


def _status_url(config: Config, status: Status, account: Account) -> str:
    if account.local:
        return config.base_url + f"/@{account.username}/{status.id}"
    return _safe_url(status.url) or _safe_url(status.uri)


def _status_html(
    config: Config, status: Status, account: Account, media: list[MediaAttachment], link: bool
) -> str:
    lang = f' lang="{escape(status.language)}"' if status.language else ""
    content = f'<div class="content" dir="auto"{lang}>{sanitize_html(status.content)}</div>'
    pictures = _media(media, config.base_url)
    if status.spoiler_text:
        content = (
            f'<details><summary dir="auto"{lang}>{escape(status.spoiler_text)}</summary>'
            f"{content}{pictures}</details>"
        )
    elif status.sensitive and pictures:
        content += f"<details><summary>Sensitive media</summary>{pictures}</details>"
    else:
        content += pictures
    page = _status_url(config, status, account)
    when = iso(status.created_at) or ""
    stamp = f'<time datetime="{when}">{when[:16].replace("T", " ")}</time>'
    meta = f'<a href="{escape(page)}">{stamp}</a>' if link and page else stamp
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
    lang = _instance_lang(config)
    en = _en(lang)
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
        + f'<div class="counts"{en}><span>{account.statuses_count} posts</span>'
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
        noindex=not account.indexable,
        lang=lang,
    )


async def status_page(request: web.Request) -> web.StreamResponse:
    store = request.app[appkeys.STORE]
    config = request.app[appkeys.CONFIG]
    account = await _local_account(store, request.match_info["username"])
    ident = parse_id(request.match_info["id"])
    status = None if ident is None else await store.statuses.get(ident)
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
        lang=status.language or _instance_lang(config),
        noindex=not account.indexable,
    )


# -- the landing page -------------------------------------------------------------------


def _paragraphs(text: str) -> str:
    """Plain text from the configuration as escaped paragraphs (blank lines separate them)."""
    parts = [" ".join(p.split()) for p in text.replace("\r\n", "\n").split("\n\n")]
    return "".join(f'<p dir="auto">{escape(p)}</p>' for p in parts if p)


def _join_html(config: Config) -> str:
    """How to get an account under ``[instance] registrations``."""
    i = config.instance
    email = i.contact_email.strip()
    if i.registrations_enabled:
        state = (
            "Registrations are open; new accounts are approved by an administrator."
            if i.approval_required
            else "Registrations are open."
        )
        return f"<p>{state} Sign up from any of the apps below.</p>"
    if i.registrations == "invite":
        state = "Registrations are by invitation: an invite link lets you sign up."
    else:
        state = "Registrations are closed."
    if email:
        ask = (
            "Accounts are made by the administrator: to ask for one, write to "
            f'<a href="mailto:{escape(quote(email, safe="@.+-_"))}">{escape(email)}</a>.'
        )
    else:
        ask = f"Accounts are made by the administrator of {escape(i.domain)}: ask them for one."
    return (
        f"<p>{state} {ask}</p><p>Once you have an account, sign in from any of the apps below.</p>"
    )


def _apps_html(config: Config) -> str:
    items = "".join(
        f'<li><a href="{escape(url)}" rel="noopener noreferrer">{escape(name)}</a>'
        f" ({escape(where)})</li>"
        for name, where, url in APPS
    )
    return (
        "<p>This server speaks the Mastodon client API, so apps made for Mastodon work: "
        f"give them <strong>{escape(config.instance.domain)}</strong> as your server. "
        f'Among those known to work:</p><ul class="apps">{items}</ul>'
    )


def _cards(config: Config, views: Sequence[StatusView]) -> str:
    return "".join(_status_html(config, v.status, v.account, v.media, link=True) for v in views)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def thumbnail_url(config: Config) -> str:
    return f"{config.base_url}/static/thumbnail.png"


async def landing_page(request: web.Request) -> web.StreamResponse:
    """What this server is, its rules, how to join, which apps work, its latest local posts.

    HTML whatever the Accept header, as Mastodon answers ``/``: apps never ask for it and a
    JSON 404 told a curious visitor nothing."""
    ctx = ctx_of(request)
    config = ctx.config
    i = config.instance
    lang = _instance_lang(config)
    en = _en(lang)
    stats = await ctx.store.instance_stats()
    views, _ = await timelines.public(
        ctx, None, Page(limit=_RECENT_POSTS), local=True, only_media=False
    )
    rules = "".join(
        f'<li dir="auto">{escape(r.text)}'
        + (f'<br><small dir="auto">{escape(r.hint)}</small>' if r.hint else "")
        + "</li>"
        for r in i.rules
    )
    body = (
        '<section class="card intro">'
        f'<img class="thumb" src="{escape(thumbnail_url(config))}" alt="">'
        f'<div class="text"><h1 dir="auto">{escape(i.title)}</h1>'
        f"{_paragraphs(i.description)}"
        f'<div class="counts"{en}><span>{_count(stats.user_count, "user")}</span>'
        f"<span>{_count(stats.local_posts, 'post')}</span>"
        f"<span>{_count(stats.domain_count, 'connected server')}</span></div></div></section>"
        + (
            f'<section class="card"><h2{en}>Rules</h2><ol class="rules">{rules}</ol></section>'
            if rules
            else ""
        )
        + f'<section class="card"><h2{en}>How to join</h2><div{en}>{_join_html(config)}</div>'
        f"<h2{en}>Apps</h2><div{en}>{_apps_html(config)}</div></section>"
    )
    shown = views  # the timelines leave out reblogs and silenced or suspended accounts
    if shown:
        body += f"<h2{en}>Recent posts</h2>" + _cards(config, shown)
    return _render(
        config,
        title=i.title,
        description=i.description or f"{i.title}, a fedinode server",
        url=config.base_url + "/",
        activity_url=None,
        og_type="website",
        image=thumbnail_url(config),
        body=body,
        lang=lang,
    )


# -- hashtags ---------------------------------------------------------------------------


def _max_id(request: web.Request) -> int | None:
    return parse_id(request.query.get("max_id", ""))


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def _tag_not_found_page(config: Config, name: str) -> web.Response:
    lang = _instance_lang(config)
    en = _en(lang)
    return _render(
        config,
        title=f"#{name}",
        description=f"No posts with #{name}",
        url=config.base_url + "/tags/" + quote(name, safe=""),
        activity_url=None,
        og_type="website",
        image=None,
        body=f'<section class="card"><h1 dir="auto">#{escape(name)}</h1>'
        f"<p{en}>No public posts with this hashtag are known here.</p></section>",
        lang=lang,
        status=404,
    )


async def tag_page(request: web.Request) -> web.StreamResponse:
    """A hashtag's latest public posts, from here and from other servers, newest first,
    ``max_id`` paging, ``?local=true`` for this server's only. With an ActivityStreams
    Accept: an OrderedCollection of the posts' ids, as Mastodon serves for ``/tags/:tag``."""
    ctx = ctx_of(request)
    config = ctx.config
    raw = request.match_info["name"]
    name = tag_key(raw) if len(raw) <= _MAX_TAG_CHARS else ""
    tag = await ctx.store.statuses.tag_by_name(name) if name else None
    wants_ap = accepts_activity_json(request.headers.get("Accept"))
    if tag is None:
        if wants_ap:
            raise web.HTTPNotFound(
                text='{"error": "Record not found"}', content_type="application/json"
            )
        return _tag_not_found_page(config, raw.lstrip("#")[:_MAX_TAG_CHARS])
    max_id = _max_id(request)
    local = _truthy(request.query.get("local"))
    page = Page(max_id=max_id, limit=TAG_PAGE_SIZE)
    if wants_ap:
        # The same gate as every other S2S read: authorized fetch, refused hosts.
        fed = request.app.get(appkeys.FEDERATION)
        if fed is not None:
            await S2S(federation_of).signed_viewer(request, fed)
    views, ids = await timelines.tag(
        ctx,
        None,
        tag.name,
        page,
        any_=(),
        all_=(),
        none=(),
        local=True if local else None,
        only_media=False,
    )
    shown = views  # the timelines leave out reblogs and silenced or suspended accounts
    more = len(ids) == TAG_PAGE_SIZE
    local_q = "&local=true" if local else ""
    if wants_ap:
        base = ctx.urls.tag(tag.name)
        return await _tag_collection(request, base, local_q, tag.id, shown, ids, more)
    path = "/tags/" + quote(tag.name, safe="")
    display = tag.display_name or tag.name
    lang = _instance_lang(config)
    en = _en(lang)
    scope = (
        f'Public posts from this server. <a href="{escape(path)}">From all servers</a>'
        if local
        else f'Public posts from this server and others. <a href="{escape(path)}?local=true">'
        "Only from this server</a>"
    )
    body = (
        f'<section class="card"><h1 dir="auto">#{escape(display)}</h1><p{en}>{scope}</p></section>'
        + (_cards(config, shown) or f"<p{en}>No public posts with this hashtag yet.</p>")
    )
    links = []
    if max_id is not None:
        links.append(f'<a href="{escape(path)}{"?local=true" if local else ""}"{en}>Newest</a>')
    if more:
        links.append(f'<a href="{escape(path)}?max_id={ids[-1]}{local_q}"{en}>Older posts</a>')
    if links:
        body += f'<nav class="pages">{"".join(links)}</nav>'
    return _render(
        config,
        title=f"#{display}",
        description=f"Public posts with #{display} on {config.instance.title}",
        url=config.base_url + path,
        activity_url=ctx.urls.tag(tag.name),
        og_type="website",
        image=thumbnail_url(config),
        body=body,
        lang=lang,
    )


async def _tag_collection(
    request: web.Request,
    base: str,
    local_q: str,
    tag_id: int,
    shown: Sequence[StatusView],
    ids: Sequence[int],
    more: bool,
) -> web.Response:
    """The collection with its first page embedded (``?page=true[&max_id=]`` for a page)."""
    max_id = _max_id(request)
    items = [v.status.uri for v in shown]
    next_url = f"{base}?page=true&max_id={ids[-1]}{local_q}" if more else None
    page_id = f"{base}?page=true" + (f"&max_id={max_id}" if max_id is not None else "") + local_q
    page = ordered_page(page_id, base, items, next_url)
    if "page" in request.query or max_id is not None:
        return ap_response(page)
    page.pop("@context", None)
    total = await request.app[appkeys.STORE].statuses.count_public_tagged(tag_id)
    return ap_response(ordered_collection(base, total, page))


# -- /static/ ---------------------------------------------------------------------------


@cache
def _static(name: str) -> bytes:
    return resources.files("fedinode.web").joinpath("static", name).read_bytes()


async def thumbnail(request: web.Request) -> web.Response:
    """The picture /api/v1/instance and /api/v2/instance advertise (1200×630, as Mastodon's)."""
    return web.Response(
        body=_static("thumbnail.png"),
        content_type="image/png",
        headers={"Cache-Control": "public, max-age=86400"},
    )
