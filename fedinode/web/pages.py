"""Server-rendered public pages: the landing page at /, a profile at /@username, a status at
/@username/:id, a hashtag at /tags/:name, and the advertised /static/thumbnail.png.

No JavaScript. Content is sanitised again on the way out (it is stored sanitised, but a page
is the one place where a mistake would run in a visitor's browser), and every other value
is escaped. ActivityPub clients asking for JSON are sent to the actor or object URI.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import quote

from aiohttp import web
from markupsafe import Markup

from activitypub.convert import ordered_collection, ordered_page
from activitypub.html import html_to_text, sanitize_html
from activitypub.routes import S2S, ap_response
from activitypub.vocab import accepts_activity_json
from fedinode import appkeys
from fedinode.api.params import ctx_of
from fedinode.api.schemas import iso
from fedinode.config import Config
from fedinode.federation import federation_of
from fedinode.services import timelines, transparency
from fedinode.services.views import StatusView
from fedinode.web import sessions
from fedinode.web.i18n import N_, direction, primary
from fedinode.web.policy_words import SEVERITY_NAMES
from fedinode.web.render import page_locale, render
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
    ("Tusky", N_("Android"), "https://tusky.app/"),
    ("Ivory", N_("iPhone, iPad and Mac"), "https://tapbots.com/ivory/"),
    ("Elk", N_("web"), "https://elk.zone/"),
    ("Phanpy", N_("web"), "https://phanpy.social/"),
    ("toot", N_("command line"), "https://toot.bezdomni.net/"),
    ("Mastodon.py", N_("Python library"), "https://github.com/halcy/Mastodon.py"),
)
_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; img-src * data:; style-src 'unsafe-inline';"
    " base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "public, max-age=60",
    # The page's own words follow Accept-Language, or the language of a logged-in viewer.
    "Vary": "Accept, Accept-Language, Cookie",
}


def _short(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _DESCRIPTION_CHARS else flat[: _DESCRIPTION_CHARS - 1] + "…"


def _instance_lang(config: Config) -> str:
    """The instance's first language: the language of its title, description and rules."""
    langs = config.instance.languages
    return langs[0] if langs and langs[0] else "en"


def _safe_url(url: str | None) -> str:
    """A peer's URL as a link target: only http(s), never ``javascript:`` and the like."""
    return url if url and url.startswith(("https://", "http://")) else ""


async def _render(
    request: web.Request,
    name: str,
    *,
    title: str,
    description: str,
    url: str,
    activity_url: str | None,
    og_type: str,
    image: str | None,
    lang: str = "en",
    status: int = 200,
    noindex: bool = False,
    **context: Any,
) -> web.Response:
    """A public page whose content is in ``lang``; its own words are in the viewer's
    language, marked with ``lang`` when that differs."""
    locale = await page_locale(request)
    ui = Markup("") if primary(lang) == locale else Markup(' lang="{}"').format(locale)
    return await render(
        request,
        name,
        status=status,
        headers=_HEADERS,
        csrf=False,
        lang=lang,
        page_dir=direction(lang),
        ui=ui,
        title=title,
        description=_short(description),
        url=url,
        activity_url=activity_url,
        og_type=og_type,
        image=image,
        noindex=noindex,
        **context,
    )


def _display_name(account: Account) -> str:
    return account.display_name.strip() or account.username


def _avatar(config: Config, account: Account) -> str:
    return account.avatar_url or f"{config.base_url}/static/avatar.png"


def _profile_url(config: Config, account: Account) -> str:
    if account.local:
        return f"{config.base_url}/@{account.username}"
    return _safe_url(account.url) or _safe_url(account.uri)


def _who(config: Config, account: Account) -> dict[str, str]:
    return {
        "avatar": _avatar(config, account),
        "profile": _profile_url(config, account),
        "name": _display_name(account),
        "username": account.username,
        "domain": account.domain or config.instance.domain,
    }


def _media(items: list[MediaAttachment], base_url: str) -> list[dict[str, str]]:
    out = []
    for m in items:
        if m.type != "image":
            continue
        src = f"{base_url}/media/{m.preview_path or m.file_path}" if m.file_path else m.remote_url
        full = f"{base_url}/media/{m.file_path}" if m.file_path else m.remote_url
        if not src:
            continue
        out.append({"src": src, "full": full or src, "description": m.description})
    return out


def _status_url(config: Config, status: Status, account: Account) -> str:
    if account.local:
        return config.base_url + f"/@{account.username}/{status.id}"
    return _safe_url(status.url) or _safe_url(status.uri)


def _card(
    config: Config, status: Status, account: Account, media: list[MediaAttachment], link: bool
) -> dict[str, Any]:
    """What ``cards.html`` shows of a status; its content sanitised again on the way out."""
    page = _status_url(config, status, account)
    return {
        "author": _who(config, account),
        "language": status.language or "",
        "content": Markup(sanitize_html(status.content)),
        "spoiler_text": status.spoiler_text,
        "sensitive": status.sensitive,
        "media": _media(media, config.base_url),
        "iso": iso(status.created_at) or "",
        "created_at": status.created_at,
        "link": page if link else "",
    }


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
    fields = [
        (str(f.get("name", "")), Markup(sanitize_html(str(f.get("value", "")))))
        for f in account.fields
        if isinstance(f, dict)
    ]
    return await _render(
        request,
        "profile.html",
        title=f"{_display_name(account)} (@{account.username}@{config.instance.domain})",
        description=html_to_text(account.note) or f"Posts by {_display_name(account)}",
        url=f"{config.base_url}/@{account.username}",
        activity_url=account.uri,
        og_type="profile",
        image=_avatar(config, account),
        noindex=not account.indexable,
        lang=_instance_lang(config),
        header_url=account.header_url,
        author=_who(config, account),
        bio=Markup(sanitize_html(account.note)),
        fields=fields,
        counts={
            "statuses": account.statuses_count,
            "following": account.following_count,
            "followers": account.followers_count,
        },
        posts=[_card(config, s, account, media.get(s.id, []), link=True) for s in statuses],
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
    return await _render(
        request,
        "status.html",
        title=f"{_display_name(account)}: “{_short(text)[:80]}”",
        description=text,
        url=f"{config.base_url}/@{account.username}/{status.id}",
        activity_url=status.uri,
        og_type="article",
        image=image or _avatar(config, account),
        lang=status.language or _instance_lang(config),
        noindex=not account.indexable,
        post=_card(config, status, account, media, link=False),
    )


# -- the landing page -------------------------------------------------------------------


def _paragraphs(text: str) -> list[str]:
    """Plain text from the configuration as paragraphs (blank lines separate them)."""
    parts = [" ".join(p.split()) for p in text.replace("\r\n", "\n").split("\n\n")]
    return [p for p in parts if p]


def thumbnail_url(config: Config) -> str:
    return f"{config.base_url}/static/thumbnail.png"


async def landing_page(request: web.Request) -> web.StreamResponse:
    """What this server is, its rules, how to join, which apps work, the servers it
    moderates (to whom ``[instance] show_domain_blocks`` shows them), its latest local posts.

    HTML whatever the Accept header, as Mastodon answers ``/``: apps never ask for it and a
    JSON 404 told a curious visitor nothing."""
    ctx = ctx_of(request)
    config = ctx.config
    i = config.instance
    stats = await ctx.store.instance_stats()
    # The timelines leave out reblogs and silenced or suspended accounts.
    recent = await timelines.public_entries(
        ctx, None, Page(limit=_RECENT_POSTS), local=True, only_media=False
    )
    views, _ = await timelines.views_of(ctx, recent, None)
    signed_in = transparency.needs_viewer(i) and await sessions.viewer(request) is not None
    moderated = transparency.moderated_servers(
        i, request.app[appkeys.POLICY].describe().get("domain_blocks", []), signed_in=signed_in
    )
    email = i.contact_email.strip()
    mailto = Markup('<a href="mailto:{}">{}</a>').format(quote(email, safe="@.+-_"), email)
    return await _render(
        request,
        "landing.html",
        title=i.title,
        description=i.description or f"{i.title}, a fedinode server",
        url=config.base_url + "/",
        activity_url=None,
        og_type="website",
        image=thumbnail_url(config),
        lang=_instance_lang(config),
        thumbnail=thumbnail_url(config),
        paragraphs=_paragraphs(i.description),
        stats=stats,
        contact_email=email,
        mailto=mailto,
        domain_strong=Markup("<strong>{}</strong>").format(i.domain),
        apps=APPS,
        posts=_cards(config, views),
        moderated=moderated,
        severity_names=SEVERITY_NAMES,
    )


def _cards(config: Config, views: Sequence[StatusView]) -> list[dict[str, Any]]:
    return [_card(config, v.status, v.account, v.media, link=True) for v in views]


# -- hashtags ---------------------------------------------------------------------------


def _max_id(request: web.Request) -> int | None:
    return parse_id(request.query.get("max_id", ""))


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


async def _tag_not_found_page(request: web.Request, config: Config, name: str) -> web.Response:
    return await _render(
        request,
        "tag.html",
        title=f"#{name}",
        description=f"No posts with #{name}",
        url=config.base_url + "/tags/" + quote(name, safe=""),
        activity_url=None,
        og_type="website",
        image=None,
        lang=_instance_lang(config),
        status=404,
        missing=True,
        display=name,
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
        return await _tag_not_found_page(request, config, raw.lstrip("#")[:_MAX_TAG_CHARS])
    max_id = _max_id(request)
    local = _truthy(request.query.get("local"))
    page = Page(max_id=max_id, limit=TAG_PAGE_SIZE)
    if wants_ap:
        # The same gate as every other S2S read: authorized fetch, refused hosts.
        fed = request.app.get(appkeys.FEDERATION)
        if fed is not None:
            await S2S(federation_of).signed_viewer(request, fed)
    entries = await timelines.tag_entries(
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
    views, ids = await timelines.views_of(ctx, entries, None)
    shown = views  # the timelines leave out reblogs and silenced or suspended accounts
    more = len(ids) == TAG_PAGE_SIZE
    local_q = "&local=true" if local else ""
    if wants_ap:
        base = ctx.urls.tag(tag.name)
        return await _tag_collection(request, base, local_q, tag.id, shown, ids, more)
    path = "/tags/" + quote(tag.name, safe="")
    display = tag.display_name or tag.name
    newest = (path + ("?local=true" if local else "")) if max_id is not None else ""
    older = f"{path}?max_id={ids[-1]}{local_q}" if more else ""
    return await _render(
        request,
        "tag.html",
        title=f"#{display}",
        description=f"Public posts with #{display} on {config.instance.title}",
        url=config.base_url + path,
        activity_url=ctx.urls.tag(tag.name),
        og_type="website",
        image=thumbnail_url(config),
        lang=_instance_lang(config),
        missing=False,
        display=display,
        local=local,
        path=path,
        posts=_cards(config, shown),
        newest_url=newest,
        older_url=older,
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
