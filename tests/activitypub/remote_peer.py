"""A fake remote server on loopback: actor documents with keys, a hit counter, an inbox."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web
from aiohttp.test_utils import TestServer
from yarl import URL

from activitypub.errors import SignatureError
from activitypub.keys import generate_keypair, load_private, load_public
from activitypub.signatures import CAVAGE, RFC9421, ResolvedKey, sign_request, verify_request

_KEYS: list[tuple[str, str]] = []


def keypair(index: int) -> tuple[str, str]:
    """Cached test key pairs (generating RSA keys is slow)."""
    while len(_KEYS) <= index:
        _KEYS.append(generate_keypair())
    return _KEYS[index]


@dataclass
class FakePeer:
    server: TestServer
    hits: list[str] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)
    received_headers: list[dict[str, str]] = field(default_factory=list)
    actors: dict[str, int] = field(default_factory=dict)  # name → key index
    # Documents served at their path (GET), and paths that answer 410 Gone.
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    gone: set[str] = field(default_factory=set)
    # name → Ed25519 Multikey (publicKeyMultibase) published under assertionMethod.
    multikeys: dict[str, str] = field(default_factory=dict)
    # Signed requests to us: when ``senders`` (keyId → (owner, public PEM)) is not empty,
    # the inbox and /notes verify signatures and refuse (401) any spec not in ``accepts``.
    senders: dict[str, tuple[str, str]] = field(default_factory=dict)
    accepts: frozenset[str] = frozenset({CAVAGE, RFC9421})
    knocks: list[tuple[str, str, int]] = field(default_factory=list)  # (method, spec, status)
    on_knock: Callable[[], None] | None = None  # called while a signed request is handled

    async def check_signature(self, request: web.Request, body: bytes | None) -> int:
        """The status a strict peer answers a signed request with (200 when accepted)."""
        spec = RFC9421 if "Signature-Input" in request.headers else CAVAGE

        async def resolve(key_id: str, refresh: bool) -> ResolvedKey | None:
            found = self.senders.get(key_id)
            return ResolvedKey(found[0], load_public(found[1])) if found else None

        status = 200
        if spec not in self.accepts:
            status = 401
        else:
            try:
                await verify_request(request.method, request.raw_path, request.headers, body,
                                     resolve, scheme="http", our_host=self.domain)  # fmt: skip
            except SignatureError:
                status = 401
        self.knocks.append((request.method, spec, status))
        if self.on_knock is not None:
            self.on_knock()
        return status

    @property
    def domain(self) -> str:
        return f"127.0.0.1:{self.server.port}"

    def actor_uri(self, name: str) -> str:
        return f"http://{self.domain}/users/{name}"

    def key_id(self, name: str) -> str:
        return f"{self.actor_uri(name)}#main-key"

    def multikey_id(self, name: str) -> str:
        return f"{self.actor_uri(name)}#ed25519-key"

    def serve(self, doc: dict[str, Any]) -> None:
        """Serve ``doc`` at the path of its id."""
        self.objects[URL(doc["id"]).path] = doc

    def actor_doc(self, name: str) -> dict[str, Any]:
        uri = self.actor_uri(name)
        doc = {
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": uri,
            "type": "Person",
            "preferredUsername": name,
            "name": name.title(),
            "inbox": f"{uri}/inbox",
            "outbox": f"{uri}/outbox",
            "followers": f"{uri}/followers",
            "endpoints": {"sharedInbox": f"http://{self.domain}/inbox"},
            "publicKey": {
                "id": self.key_id(name),
                "owner": uri,
                "publicKeyPem": keypair(self.actors[name])[1],
            },
        }
        if name in self.multikeys:
            doc["assertionMethod"] = [
                {
                    "id": self.multikey_id(name),
                    "type": "Multikey",
                    "controller": uri,
                    "publicKeyMultibase": self.multikeys[name],
                }
            ]
        return doc

    def signed_post(
        self, url: str, activity: dict[str, Any], *, signer: str, body: bytes | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """(body, headers) of a POST signed by ``signer``'s key."""
        data = body if body is not None else orjson.dumps(activity)
        headers = sign_request(
            "POST",
            url,
            {"Content-Type": "application/activity+json"},
            data,
            self.key_id(signer),
            load_private(keypair(self.actors[signer])[0]),
        )
        return data, headers


async def start_peer(names: dict[str, int]) -> FakePeer:
    app = web.Application()
    server = TestServer(app, host="127.0.0.1")
    peer = FakePeer(server=server, actors=dict(names))

    async def actor(request: web.Request) -> web.Response:
        peer.hits.append(request.path)
        name = request.match_info["name"]
        if name not in peer.actors:
            raise web.HTTPNotFound()
        return web.Response(body=orjson.dumps(peer.actor_doc(name)),
                            content_type="application/activity+json")  # fmt: skip

    async def inbox(request: web.Request) -> web.Response:
        body = await request.read()
        if peer.senders and await peer.check_signature(request, body) != 200:
            return web.json_response({"error": "signature refused"}, status=401)
        peer.received.append(orjson.loads(body))
        peer.received_headers.append(dict(request.headers))
        return web.Response(status=202)

    async def document(request: web.Request) -> web.Response:
        peer.hits.append(request.path)
        if request.path in peer.gone:
            raise web.HTTPGone()
        doc = peer.objects.get(request.path)
        if doc is None:
            raise web.HTTPNotFound()
        return web.Response(body=orjson.dumps(doc), content_type="application/activity+json")

    async def note(request: web.Request) -> web.Response:
        if peer.senders and await peer.check_signature(request, None) != 200:
            return web.json_response({"error": "signature refused"}, status=401)
        uri = f"http://{peer.domain}/notes/{request.match_info['id']}"
        return web.Response(body=orjson.dumps({"id": uri, "type": "Note", "content": "hi"}),
                            content_type="application/activity+json")  # fmt: skip

    app.router.add_get("/users/{name}", actor)
    app.router.add_post("/users/{name}/inbox", inbox)
    app.router.add_post("/inbox", inbox)
    app.router.add_get("/notes/{id}", note)
    app.router.add_get("/{tail:.+}", document)
    await server.start_server()
    return peer
