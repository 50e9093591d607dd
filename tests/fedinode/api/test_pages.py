"""The public HTML pages: profile and status, sanitised, with OpenGraph tags."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from extras_rig import make_rig

from fedinode.config import Config
from storage.statuses import NewStatus


async def test_profile_and_status_pages(
    aiohttp_client: Any, config: Config, tmp_path: Path
) -> None:
    rig = await make_rig(aiohttp_client, config, tmp_path)
    alice = await rig.user("alice")
    await rig.store.accounts.update(
        alice.account.id,
        display_name="Alice <script>x</script>",
        note="<p>bio<script>alert(1)</script></p>",
    )
    public = await rig.store.statuses.create(
        NewStatus(
            account_id=alice.account.id,
            local=True,
            content='<p>سلام <a href="javascript:alert(1)">x</a><img src=x onerror=alert(1)></p>',
            language="fa",
        ),
        uri_template=rig.config.base_url + "/users/alice/statuses/{id}",
    )
    private = await rig.post(alice, "secret words", visibility="private")

    resp = await rig.client.get("/@alice")
    assert resp.status == 200 and resp.content_type == "text/html"
    html = await resp.text()
    assert '<meta property="og:type" content="profile">' in html
    assert (
        '<link rel="alternate" type="application/activity+json" href="https://local.test/users/alice">'
        in html
    )
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "سلام" in html and "secret words" not in html
    assert "javascript:" not in html and "onerror" not in html
    assert "Content-Security-Policy" in resp.headers

    page = await rig.client.get(f"/@alice/{public.id}")
    body = await page.text()
    assert page.status == 200 and '<meta property="og:type" content="article">' in body
    assert f'href="https://local.test/users/alice/statuses/{public.id}"' in body
    assert '<html lang="fa" dir="rtl">' in body and "og:description" in body
    assert (await rig.client.get(f"/@alice/{private.id}")).status == 404
    assert (await rig.client.get("/@nobody")).status == 404
    assert (await rig.client.get(f"/@bob/{public.id}")).status == 404

    ap = await rig.client.get(
        "/@alice", headers={"Accept": "application/activity+json"}, allow_redirects=False
    )
    assert ap.status == 302 and ap.headers["Location"] == "https://local.test/users/alice"
