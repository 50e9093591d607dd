"""Remote media cache: hit ratio, and bytes fetched from peers with and without the cache.

    python bench/media_cache.py [--instances 3] [--users 2] [--posts 4] [--views 3]

Runs the same federation twice, with ``[media] cache_remote = true`` and ``= false``:
N instances (SQLite) on loopback, each with U users who have an avatar, and a custom emoji;
every user follows every user on the other instances. Each user posts P statuses, each with
a new photo, the instance's emoji and a link to one of three pages on a third-party site
(OpenGraph title and image). Then every user's app reads its home timeline V times and
downloads what a Mastodon app shows for each status from another instance: the author's
avatar, the emojis, the card's image, each attachment's preview and the full photo.

Everything not on the reader's own instance counts as fetched from abroad: what the
instances' workers fetch from peers and from the site (files, card pages, card images), and
what apps download from hosts other than their own. The views happen after the workers have
run (they fetch within seconds of a post's arrival); a view before that sees remote URLs.
Prints, for each mode, the media fetches from abroad, the media views served at home, the
hit ratio (views served from the cache / views of remote media) and the bytes.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import socket
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fedinode import appkeys  # noqa: E402
from fedinode.app import create_app  # noqa: E402
from fedinode.config import (  # noqa: E402
    Config,
    DatabaseConfig,
    FederationConfig,
    InstanceConfig,
    MediaConfig,
    ServerConfig,
)
from fedinode.preview_cards import CARD_WORKER  # noqa: E402
from fedinode.remote_media import MEDIA_CACHE_WORKER  # noqa: E402
from fedinode.services.custom_emojis import add_local_emoji  # noqa: E402
from fedinode.services.users import create_local_user  # noqa: E402

PASSWORD = "correct horse battery"
APP_AGENT = "bench-app/1.0"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def picture(seed: int, size: tuple[int, int], fmt: str = "JPEG") -> bytes:
    """A photo-like image (a gradient, so that it does not compress to nothing)."""
    w, h = size
    image = Image.new("RGB", size)
    image.putdata(
        [((x * 7 + seed * 37) % 256, (y * 5 + seed * 11) % 256, (x * y + seed) % 256)
         for y in range(h) for x in range(w)]
    )  # fmt: skip
    out = io.BytesIO()
    image.save(out, fmt, quality=85) if fmt == "JPEG" else image.save(out, fmt)
    return out.getvalue()


@dataclass
class Traffic:
    """Bytes and requests, by who asked and who answered."""

    server_fetches: int = 0  # by an instance's workers, from another host
    server_bytes: int = 0
    page_fetches: int = 0  # of those, linked pages read for cards (not media)
    app_views: Counter[str] = field(default_factory=Counter)  # "home" | "abroad"
    app_bytes: Counter[str] = field(default_factory=Counter)
    # The same, were each app to keep what it downloaded (an app's own HTTP cache).
    app_first_bytes: Counter[str] = field(default_factory=Counter)

    def served_to_instance(self, length: int) -> None:
        self.server_fetches += 1
        self.server_bytes += length


def count_served(traffic: Traffic) -> Any:
    async def on_prepare(request: web.Request, response: web.StreamResponse) -> None:
        # Files an instance's worker fetched from this one (apps send their own agent).
        agent = request.headers.get("User-Agent", "")
        if request.path.startswith("/media/") and agent.startswith("fedinode/"):
            traffic.served_to_instance(int(response.headers.get("Content-Length", "0")))

    return on_prepare


async def start_site(traffic: Traffic) -> tuple[web.AppRunner, str]:
    """The third-party site the posts link to: three pages, each with an og:image."""
    covers = {f"/cover{n}.jpg": picture(100 + n, (600, 315)) for n in range(3)}

    async def page(request: web.Request) -> web.Response:
        agent = request.headers.get("User-Agent", "")
        if request.path in covers:
            body = covers[request.path]
            if agent.startswith("fedinode/"):
                traffic.served_to_instance(len(body))
            return web.Response(body=body, content_type="image/jpeg")
        n = request.path.rsplit("/", 1)[-1]
        html = (
            f'<html><head><meta property="og:title" content="Story {n}">'
            f'<meta property="og:image" content="/cover{n}.jpg"></head><body>{"x" * 2000}'
            "</body></html>"
        )
        traffic.served_to_instance(len(html.encode()))
        traffic.page_fetches += 1
        return web.Response(text=html, content_type="text/html")

    app = web.Application()
    app.router.add_get("/{tail:.*}", page)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}"


@dataclass
class Node:
    port: int
    config: Config
    runner: web.AppRunner
    app: web.Application

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


async def start_node(name: str, directory: Path, cache: bool, traffic: Traffic) -> Node:
    port = free_port()
    config = Config(
        instance=InstanceConfig(domain=f"127.0.0.1:{port}", title=name),
        server=ServerConfig(host="127.0.0.1", port=port, access_log=False),
        database=DatabaseConfig(url=f"sqlite:///{directory / name}.sqlite3"),
        federation=FederationConfig(
            scheme="http", allow_private_addresses=True, fetch_timeout_seconds=10.0
        ),
        media=MediaConfig(directory=str(directory / name / "media"), cache_remote=cache),
    )
    app = create_app(config)
    app.on_response_prepare.append(count_served(traffic))
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    fed = app[appkeys.FEDERATION]
    fed.delivery.poll_interval = 0.1
    fed.processor.poll_interval = 0.1
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return Node(port, config, runner, app)


@dataclass
class App:
    """One user's Mastodon app on its own instance."""

    node: Node
    http: aiohttp.ClientSession
    token: str
    username: str

    @property
    def handle(self) -> str:
        return f"{self.username}@{self.node.config.instance.domain}"

    async def call(self, method: str, path: str, **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token}", "User-Agent": APP_AGENT}
        async with self.http.request(method, self.node.base + path, headers=headers, **kw) as r:
            body = await r.json()
            if r.status >= 300:
                raise RuntimeError(f"{method} {path}: {r.status} {body}")
            return body


async def make_app(node: Node, http: aiohttp.ClientSession, username: str) -> App:
    from activitypub.urls import Urls

    await create_local_user(
        node.app[appkeys.STORE], Urls(node.base), username=username,
        email=f"{username}@bench.test", password=PASSWORD,
    )  # fmt: skip
    async with http.post(f"{node.base}/api/v1/apps", json={
        "client_name": "bench", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
        "scopes": "read write follow",
    }) as resp:  # fmt: skip
        registered = await resp.json()
    async with http.post(f"{node.base}/oauth/token", data={
        "grant_type": "password", "client_id": registered["client_id"],
        "client_secret": registered["client_secret"], "username": username,
        "password": PASSWORD, "scope": "read write follow",
    }) as resp:  # fmt: skip
        token = await resp.json()
    return App(node, http, token["access_token"], username)


async def wait_for(probe: Any, what: str, within: float = 60.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await probe():
        if asyncio.get_running_loop().time() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


def shown_urls(status: dict[str, Any]) -> list[str]:
    """What an app downloads to show a status: avatar, emojis, card image, the photos."""
    account = status["account"]
    urls = [account["avatar"]]
    urls += [e["url"] for e in account.get("emojis", [])]
    urls += [e["url"] for e in status.get("emojis", [])]
    if status.get("card") and status["card"].get("image"):
        urls.append(status["card"]["image"])
    for media in status["media_attachments"]:
        urls += [media["preview_url"], media["url"]]
    return [u for u in urls if u]


async def run(args: argparse.Namespace, cache: bool) -> Traffic:
    traffic = Traffic()
    site_runner, site = await start_site(traffic)
    nodes: list[Node] = []
    with tempfile.TemporaryDirectory(prefix="fedinode-bench-media-") as tmp:
        try:
            for n in range(args.instances):
                nodes.append(await start_node(f"i{n}", Path(tmp), cache, traffic))
            async with aiohttp.ClientSession() as http:
                await scenario(args, nodes, http, site, traffic, cache)
        finally:
            for node in nodes:
                await node.runner.cleanup()
            await site_runner.cleanup()
    return traffic


async def scenario(
    args: argparse.Namespace,
    nodes: list[Node],
    http: aiohttp.ClientSession,
    site: str,
    traffic: Traffic,
    cache: bool,
) -> None:
    apps: list[App] = []
    for i, node in enumerate(nodes):
        await add_local_emoji(
            node.app[appkeys.STORE], node.config, f"wave{i}", picture(i, (64, 64), "PNG")
        )
        for u in range(args.users):
            app = await make_app(node, http, f"u{i}x{u}")
            form = aiohttp.FormData()
            form.add_field(
                "avatar", picture(10 * i + u, (400, 400)), filename="me.jpg",
                content_type="image/jpeg",
            )  # fmt: skip
            await app.call("PATCH", "/api/v1/accounts/update_credentials", data=form)
            apps.append(app)

    for reader in apps:
        for other in apps:
            if other.node is reader.node:
                continue
            found = await reader.call(
                "GET", "/api/v2/search",
                params={"q": f"@{other.handle}", "resolve": "true", "type": "accounts"},
            )  # fmt: skip
            [account] = [a for a in found["accounts"] if a["acct"] == other.handle]
            await reader.call("POST", f"/api/v1/accounts/{account['id']}/follow")

    async def all_follow() -> bool:
        for reader in apps:
            me = await reader.call("GET", "/api/v1/accounts/verify_credentials")
            if me["following_count"] < len(apps) - args.users:
                return False
        return True

    await wait_for(all_follow, "the follows")

    seed = 1000
    for p in range(args.posts):
        for i, app in enumerate(apps):
            seed += 1
            form = aiohttp.FormData()
            form.add_field(
                "file", picture(seed, (800, 600)), filename="p.jpg", content_type="image/jpeg"
            )
            media = await app.call("POST", "/api/v1/media", data=form)
            node_index = nodes.index(app.node)
            await app.call(
                "POST", "/api/v1/statuses",
                json={"status": f"post {p} :wave{node_index}: {site}/story/{(p + i) % 3}",
                      "media_ids": [media["id"]]},
            )  # fmt: skip

    expected = args.posts * (len(apps) - args.users)

    async def delivered() -> bool:
        for reader in apps:
            home = await reader.call("GET", "/api/v1/timelines/home", params={"limit": "40"})
            if sum("@" in s["account"]["acct"] for s in home) < min(expected, 40):
                return False
        return True

    await wait_for(delivered, "the posts at every follower", within=120)
    for node in nodes:
        # What the workers do by themselves within seconds; here, to the end, now.
        await node.app[CARD_WORKER].drain()
        if cache:
            await node.app[MEDIA_CACHE_WORKER].drain()
            await node.app[CARD_WORKER].drain()
            await node.app[MEDIA_CACHE_WORKER].drain()

    seen: dict[str, set[str]] = {app.handle: set() for app in apps}
    for _ in range(args.views):
        for reader in apps:
            home = await reader.call("GET", "/api/v1/timelines/home", params={"limit": "40"})
            for status in home:
                if "@" not in status["account"]["acct"]:
                    continue  # the reader's own instance's posts are not the question
                for url in shown_urls(status):
                    where = "home" if url.startswith(reader.node.base + "/") else "abroad"
                    async with http.get(url, headers={"User-Agent": APP_AGENT}) as resp:
                        body = await resp.read()
                        if resp.status != 200:
                            raise RuntimeError(f"{url}: {resp.status}")
                    traffic.app_views[where] += 1
                    traffic.app_bytes[where] += len(body)
                    if url not in seen[reader.handle]:
                        seen[reader.handle].add(url)
                        traffic.app_first_bytes[where] += len(body)


def report(label: str, t: Traffic) -> None:
    views = t.app_views["home"] + t.app_views["abroad"]
    files = t.server_fetches - t.page_fetches
    print(f"{label}:")
    print(
        f"  fetched from abroad by the instances: {files} files + {t.page_fetches} card pages"
        f" ({t.server_bytes:,} B)"
    )
    print(
        f"  remote media views by apps: {views}; served at home {t.app_views['home']},"
        f" from abroad {t.app_views['abroad']} ({t.app_bytes['abroad']:,} B)"
    )
    if views:
        # Each view asks the cache for a remote file; each fetch from abroad is a miss.
        misses = files + t.app_views["abroad"]
        print(f"  cache hit ratio: 1 - {misses}/{views} = {1 - min(misses, views) / views:.3f}")
    print(f"  bytes from abroad: {t.server_bytes + t.app_bytes['abroad']:,}")
    print(
        "  bytes from abroad, apps keeping what they downloaded:"
        f" {t.server_bytes + t.app_first_bytes['abroad']:,}"
    )


def ratio(with_cache: int, without: int) -> str:
    return f"{with_cache / without:.1%} of those without ({without / max(with_cache, 1):.1f}x less)"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", type=int, default=3)
    parser.add_argument("--users", type=int, default=2, help="per instance")
    parser.add_argument("--posts", type=int, default=4, help="per user")
    parser.add_argument("--views", type=int, default=3, help="home timeline reads per user")
    args = parser.parse_args()
    with_cache = await run(args, cache=True)
    without = await run(args, cache=False)
    print(
        f"{args.instances} instances x {args.users} users, {args.posts} posts each"
        f" (photo, emoji, link), {args.views} timeline reads per user"
    )
    report("cache_remote = true", with_cache)
    report("cache_remote = false", without)
    print(
        "bytes from abroad with the cache:",
        ratio(
            with_cache.server_bytes + with_cache.app_bytes["abroad"],
            without.server_bytes + without.app_bytes["abroad"],
        ),
    )
    print(
        "  the same with apps keeping what they downloaded:",
        ratio(
            with_cache.server_bytes + with_cache.app_first_bytes["abroad"],
            without.server_bytes + without.app_first_bytes["abroad"],
        ),
    )


if __name__ == "__main__":
    asyncio.run(main())
