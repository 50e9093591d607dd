"""Server-to-server HTTP: discovery, actors, inboxes, collections and objects.

Handlers are thin: read the request, ask the Federation's components, answer JSON. The
Federation object is looked up per request through ``get`` (it is built in a cleanup
context, after the routes are registered).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web

from activitypub import vocab
from activitypub.convert import activity, actor_to_as, ordered_collection, ordered_page
from activitypub.errors import SignatureError
from activitypub.federation import INSTANCE_ACTOR_USERNAME, Federation
from activitypub.policy_lists import announce_key
from activitypub.signatures import verify_request
from activitypub.webfinger import (
    host_meta_json,
    host_meta_xml,
    instance_actor_aliases,
    jrd,
    parse_resource,
)
from storage.ids import parse_id
from storage.models import OPEN_VISIBILITIES, Account, Status
from storage.paging import Page

log = logging.getLogger("fedinode.s2s")

FederationGetter = Callable[[web.Request], Federation]
PAGE_SIZE = 20


def ap_response(doc: dict[str, Any], status: int = 200) -> web.Response:
    return web.Response(
        body=orjson.dumps(doc),
        status=status,
        content_type=vocab.ACTIVITY_JSON,
        headers={"Vary": "Accept, Signature", "Access-Control-Allow-Origin": "*"},
    )


def _error(status: int, reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=status)


def _int(value: str | None) -> int | None:
    return parse_id(value)


def _inbox_takes(content_type: str | None) -> bool:
    """ActivityPub's types (activity+json; ld+json with or without the profile) and plain
    application/json, which a few senders use (Mastodon takes any type). None of them is a
    type a browser form can post to another site."""
    base = (content_type or "").split(";", 1)[0].strip().lower()
    return vocab.is_activity_media_type(base) or base == "application/json"


class S2S:
    """The handlers; one instance per application."""

    def __init__(self, get: FederationGetter) -> None:
        self.get = get

    # -- helpers --------------------------------------------------------------------------

    async def _local(self, fed: Federation, username: str) -> Account:
        account = await fed.store.accounts.by_handle(username, "")
        if account is None or account.suspended or account.username == INSTANCE_ACTOR_USERNAME:
            raise web.HTTPNotFound(text='{"error": "Record not found"}',
                                   content_type="application/json")  # fmt: skip
        return account

    async def signed_viewer(self, request: web.Request, fed: Federation) -> Account | None:
        """The actor that signed this GET (None if unsigned); 401 when authorized fetch is
        on and the request is not validly signed by an allowed host."""
        headers = request.headers
        if "Signature" not in headers and "Signature-Input" not in headers:
            if fed.settings.authorized_fetch:
                raise web.HTTPUnauthorized(text='{"error": "signature required"}',
                                           content_type="application/json")  # fmt: skip
            return None
        try:
            verified = await verify_request(
                request.method,
                request.raw_path,
                headers,
                None,
                fed.resolver.key,
                scheme=fed.settings.scheme,
                our_host=fed.settings.domain,
            )
        except SignatureError as exc:
            if fed.settings.authorized_fetch:
                raise web.HTTPUnauthorized(text=orjson.dumps({"error": exc.reason}).decode(),
                                           content_type="application/json") from None  # fmt: skip
            return None
        viewer = await fed.store.accounts.by_uri(verified.key_owner)
        if viewer is not None and not viewer.local:
            decision = fed.gate.pipeline.check_host(viewer.domain, "inbound")
            if not decision.allowed:
                raise web.HTTPForbidden(text='{"error": "host refused"}',
                                        content_type="application/json")  # fmt: skip
        return viewer

    @staticmethod
    def wants_ap(request: web.Request) -> bool:
        return vocab.accepts_activity_json(request.headers.get("Accept"))

    # -- discovery ------------------------------------------------------------------------

    async def webfinger(self, request: web.Request) -> web.Response:
        fed = self.get(request)
        resource = request.query.get("resource", "")
        if not resource:
            return _error(400, "resource parameter is required")
        username = parse_resource(resource, fed.settings.domain, fed.urls)
        if username is None:
            return _error(404, "not found")
        name = username.lower()
        if name in ("", INSTANCE_ACTOR_USERNAME):
            account = fed.instance_actor()
        else:
            found = await fed.store.accounts.by_handle(username, "")
            if found is None and name in instance_actor_aliases(fed.settings.domain):
                # Older names of the instance actor (the domain, the bare host) for peers
                # that learnt them; the subject is its current name, which Mastodon
                # follows and GoToSocial asks for in the first place.
                account = fed.instance_actor()
            elif found is None or found.suspended:
                return _error(404, "not found")
            else:
                account = found
        doc = jrd(account.username, fed.settings.domain, account.uri,
                  account.url or fed.urls.profile_page(account.username))  # fmt: skip
        return web.Response(
            body=orjson.dumps(doc),
            content_type=vocab.JRD_JSON,
            headers={"Access-Control-Allow-Origin": "*"},
        )

    async def host_meta(self, request: web.Request) -> web.Response:
        fed = self.get(request)
        accept = request.headers.get("Accept", "")
        if "json" in accept and "xml" not in accept:
            return web.json_response(host_meta_json(fed.urls.base))
        return web.Response(text=host_meta_xml(fed.urls.base), content_type="application/xrd+xml")

    async def host_meta_json(self, request: web.Request) -> web.Response:
        return web.json_response(host_meta_json(self.get(request).urls.base))

    # -- actors ---------------------------------------------------------------------------

    async def actor(self, request: web.Request) -> web.StreamResponse:
        fed = self.get(request)
        account = await self._local(fed, request.match_info["username"])
        if not self.wants_ap(request):
            raise web.HTTPFound(account.url or fed.urls.profile_page(account.username))
        moved = None
        if account.moved_to_account_id is not None:
            target = await fed.store.accounts.get(account.moved_to_account_id)
            moved = target.uri if target is not None else None
        return ap_response(actor_to_as(account, fed.urls, moved_to_uri=moved))

    async def instance_actor(self, request: web.Request) -> web.Response:
        fed = self.get(request)
        account = fed.instance_actor()
        doc = actor_to_as(account, fed.urls)
        for key in ("followers", "following", "featured", "featuredTags", "attachment",
                    "alsoKnownAs", "tag"):  # fmt: skip
            doc.pop(key, None)
        # A name every peer parses (GoToSocial refuses a ':' from a domain's port) and that
        # WebFinger answers for: peers check acct:<preferredUsername>@<domain> → /actor.
        doc["preferredUsername"] = account.username
        doc["manuallyApprovesFollowers"] = True
        if fed.list_key is not None:  # the key that signs /policy/list.json (FEP-8b32)
            doc = announce_key(doc, fed.list_key)
        return ap_response(doc)

    # -- inboxes --------------------------------------------------------------------------

    async def inbox(self, request: web.Request) -> web.Response:
        if not _inbox_takes(request.headers.get("Content-Type")):
            return _error(415, "Content-Type must be application/activity+json")
        fed = self.get(request)
        recipient: int | None = None
        username = request.match_info.get("username")
        if username is not None:
            recipient = (await self._local(fed, username)).id
        limit = fed.settings.max_inbox_bytes
        if request.content_length is not None and request.content_length > limit:
            return _error(413, "body too large")
        try:
            body = await _read_capped(request, limit)
        except _TooLarge:
            return _error(413, "body too large")
        result = await fed.intake.receive(
            method=request.method,
            path_qs=request.raw_path,
            headers=request.headers,
            body=body,
            recipient_account_id=recipient,
        )
        if result.status == 202:
            return web.Response(status=202)
        response = _error(result.status, result.reason)
        if result.retry_after:
            response.headers["Retry-After"] = str(result.retry_after)
        return response

    # -- collections ----------------------------------------------------------------------

    async def outbox(self, request: web.Request) -> web.Response:
        fed = self.get(request)
        account = await self._local(fed, request.match_info["username"])
        await self.signed_viewer(request, fed)
        base = account.outbox_url or fed.urls.outbox(account.username)
        if "page" not in request.query:
            return ap_response(
                ordered_collection(base, account.statuses_count, f"{base}?page=true")
            )
        max_id = _int(request.query.get("max_id"))
        statuses = await fed.store.statuses.account_statuses(
            account.id, None, Page(max_id=max_id, limit=PAGE_SIZE)
        )
        items = []
        for status in statuses:
            if status.visibility not in OPEN_VISIBILITIES:
                continue
            items.append(await self._status_activity(fed, status, account))
        next_url = (
            f"{base}?page=true&max_id={statuses[-1].id}" if len(statuses) == PAGE_SIZE else None
        )
        return ap_response(ordered_page(f"{base}?page=true" + (f"&max_id={max_id}" if max_id else ""),
                                        base, items, next_url))  # fmt: skip

    async def _status_activity(self, fed: Federation, status: Status, author: Account) -> Any:
        if status.reblog_of_id is not None:
            original = await fed.store.statuses.get(status.reblog_of_id)
            doc = activity(vocab.ANNOUNCE, f"{status.uri}/activity", author.uri,
                           original.uri if original else None, to=[vocab.PUBLIC],
                           cc=[author.followers_url], published=status.created_at)  # fmt: skip
        else:
            note, _ = await fed.outbox.note(status, author)
            note.pop("@context", None)
            doc = activity(vocab.CREATE, f"{status.uri}/activity", author.uri, note,
                           to=note["to"], cc=note["cc"], published=status.created_at)  # fmt: skip
        doc.pop("@context", None)
        return doc

    async def followers(self, request: web.Request) -> web.Response:
        return await self._follow_collection(request, followers=True)

    async def following(self, request: web.Request) -> web.Response:
        return await self._follow_collection(request, followers=False)

    async def _follow_collection(self, request: web.Request, *, followers: bool) -> web.Response:
        fed = self.get(request)
        account = await self._local(fed, request.match_info["username"])
        await self.signed_viewer(request, fed)
        if followers:
            base = account.followers_url or fed.urls.followers(account.username)
            total = account.followers_count
        else:
            base = account.following_url or fed.urls.following(account.username)
            total = account.following_count
        if "page" not in request.query:
            return ap_response(ordered_collection(base, total, f"{base}?page=1"))
        max_id = _int(request.query.get("max_id"))
        page = Page(max_id=max_id, limit=PAGE_SIZE)
        rows = await (
            fed.store.relationships.followers(account.id, page)
            if followers
            else fed.store.relationships.following(account.id, page)
        )
        items = [other.uri for _, other in rows]
        next_url = f"{base}?page=1&max_id={rows[-1][0].id}" if len(rows) == PAGE_SIZE else None
        return ap_response(ordered_page(f"{base}?page=1" + (f"&max_id={max_id}" if max_id else ""),
                                        base, items, next_url, total))  # fmt: skip

    async def featured(self, request: web.Request) -> web.Response:
        fed = self.get(request)
        account = await self._local(fed, request.match_info["username"])
        await self.signed_viewer(request, fed)
        ids = await fed.store.interactions.pinned_ids(account.id)
        statuses = await fed.store.statuses.get_many(ids)
        items = []
        for ident in ids:
            status = statuses.get(ident)
            if status is None or status.visibility not in OPEN_VISIBILITIES:
                continue
            note, _ = await fed.outbox.note(status, account)
            note.pop("@context", None)
            items.append(note)
        base = account.featured_url or fed.urls.featured(account.username)
        doc = ordered_collection(base, len(items))
        doc["orderedItems"] = items
        return ap_response(doc)

    async def featured_tags(self, request: web.Request) -> web.Response:
        """The hashtags an account features on its profile (Mastodon's featuredTags)."""
        fed = self.get(request)
        account = await self._local(fed, request.match_info["username"])
        await self.signed_viewer(request, fed)
        featured = await fed.store.tags.featured_tags(account.id)
        items = [
            {
                "type": vocab.HASHTAG,
                "href": fed.urls.tag(f.tag.name),
                "name": f"#{f.tag.display_name or f.tag.name}",
            }
            for f in featured
        ]
        return ap_response({
            "@context": vocab.DEFAULT_CONTEXT,
            "id": fed.urls.featured_tags(account.username),
            "type": vocab.COLLECTION,
            "totalItems": len(items),
            "items": items,
        })  # fmt: skip

    # -- statuses -------------------------------------------------------------------------

    async def _visible_status(
        self, request: web.Request, fed: Federation
    ) -> tuple[Status, Account]:
        account = await self._local(fed, request.match_info["username"])
        ident = _int(request.match_info["status_id"])
        status = await fed.store.statuses.get(ident) if ident is not None else None
        if status is None or status.account_id != account.id or not status.local:
            raise web.HTTPNotFound(
                text='{"error": "Record not found"}', content_type="application/json"
            )
        viewer = await self.signed_viewer(request, fed)
        if status.visibility not in OPEN_VISIBILITIES:
            if viewer is None or not await fed.store.statuses.visible_to(status, viewer.id):
                raise web.HTTPNotFound(text='{"error": "Record not found"}',
                                       content_type="application/json")  # fmt: skip
        return status, account

    async def status(self, request: web.Request) -> web.StreamResponse:
        fed = self.get(request)
        if not self.wants_ap(request):
            username = request.match_info["username"]
            raise web.HTTPFound(fed.urls.status_page(username, request.match_info["status_id"]))
        status, account = await self._visible_status(request, fed)
        if status.reblog_of_id is not None:
            doc = await self._status_activity(fed, status, account)
            doc["@context"] = vocab.DEFAULT_CONTEXT
            return ap_response(doc)
        note, _ = await fed.outbox.note(status, account)
        return ap_response(note)

    async def status_activity(self, request: web.Request) -> web.Response:
        fed = self.get(request)
        status, account = await self._visible_status(request, fed)
        doc = await self._status_activity(fed, status, account)
        doc["@context"] = vocab.DEFAULT_CONTEXT
        return ap_response(doc)

    async def replies(self, request: web.Request) -> web.Response:
        fed = self.get(request)
        status, _account = await self._visible_status(request, fed)
        base = f"{status.uri}/replies"
        after = _int(request.query.get("min_id"))
        children = await fed.store.statuses.public_replies(status.id, after_id=after,
                                                           limit=PAGE_SIZE)  # fmt: skip
        next_url = (
            f"{base}?page=true&min_id={children[-1].id}" if len(children) == PAGE_SIZE else None
        )
        page_id = f"{base}?page=true" + (f"&min_id={after}" if after is not None else "")
        page = ordered_page(page_id, base, [s.uri for s in children], next_url)
        if "page" in request.query:
            return ap_response(page)
        # The collection embeds its first page, as Mastodon's does (one fetch for most).
        page.pop("@context", None)
        total = await fed.store.statuses.count_public_replies(status.id)
        return ap_response(ordered_collection(base, total, page))


class _TooLarge(Exception):
    pass


async def _read_capped(request: web.Request, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(65536):
        size += len(chunk)
        if size > limit:
            raise _TooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def add_routes(router: web.UrlDispatcher, get: FederationGetter) -> S2S:
    """Register every S2S route on ``router``."""
    s2s = S2S(get)
    router.add_get("/.well-known/webfinger", s2s.webfinger)
    router.add_get("/.well-known/host-meta", s2s.host_meta)
    router.add_get("/.well-known/host-meta.json", s2s.host_meta_json)
    router.add_get("/actor", s2s.instance_actor)
    router.add_post("/actor/inbox", s2s.inbox)
    router.add_post("/inbox", s2s.inbox)
    router.add_get("/users/{username}", s2s.actor)
    router.add_post("/users/{username}/inbox", s2s.inbox)
    router.add_get("/users/{username}/outbox", s2s.outbox)
    router.add_get("/users/{username}/followers", s2s.followers)
    router.add_get("/users/{username}/following", s2s.following)
    router.add_get("/users/{username}/collections/featured", s2s.featured)
    router.add_get("/users/{username}/collections/tags", s2s.featured_tags)
    router.add_get("/users/{username}/statuses/{status_id}", s2s.status)
    router.add_get("/users/{username}/statuses/{status_id}/activity", s2s.status_activity)
    router.add_get("/users/{username}/statuses/{status_id}/replies", s2s.replies)
    return s2s
