"""Setting up two-factor shows the key as a QR code drawn on the server (inline SVG, no
script, no request elsewhere) beside the key and the otpauth link."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs, unquote, urlsplit

import pyotp
import segno
from api_helpers import PASSWORD, Api

Site = Callable[..., Awaitable[Api]]
HTTP = {"scheme": "http"}  # the cookies are Secure on https; the test client speaks http


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def _path_data(svg: str) -> list[str]:
    """The dark modules' path (the light ground, if drawn, is a separate path)."""
    return re.findall(r'<path class="qrline"[^>]* d="([^"]+)"', svg)


async def _setup_page(api: Api, accept_language: str = "en") -> str:
    headers = {"Accept-Language": accept_language}
    page = await (await api.client.get("/auth/sign_in")).text()
    signed = await api.client.post(
        "/auth/sign_in",
        data={"csrf_token": _csrf(page), "login": "alice", "password": PASSWORD},
        allow_redirects=False,
    )
    assert signed.status == 303
    page = await (await api.client.get("/settings/two_factor", headers=headers)).text()
    assert "id='otp-qr'" not in page  # not before setting up
    resp = await api.client.post(
        "/settings/two_factor/setup", data={"csrf_token": _csrf(page)}, headers=headers
    )
    assert resp.status == 200
    assert "img-src 'self' data:" in resp.headers["Content-Security-Policy"]
    return await resp.text()


async def test_setup_page_shows_the_otpauth_uri_as_a_qr_code(site: Site) -> None:
    api = await site(federation=HTTP, domain="social.example", title="A Social Place")
    await api.user("alice")
    page = await _setup_page(api)
    uri_match = re.search(r"id='otp-uri'>([^<]+)<", page)
    secret_match = re.search(r"id='otp-secret'>([A-Z2-7]+)<", page)
    qr_match = re.search(r"<figure id='otp-qr'>.*?(<svg.*?</svg>).*?</figure>", page, re.S)
    assert uri_match and secret_match and qr_match, page
    uri, secret, svg = html.unescape(uri_match.group(1)), secret_match.group(1), qr_match.group(1)

    # The issuer is the instance's domain, the account user@domain, as Mastodon writes them.
    parts = urlsplit(uri)
    assert parts.scheme == "otpauth" and parts.netloc == "totp"
    assert unquote(parts.path) == "/social.example:alice@social.example"
    query = parse_qs(parts.query)
    assert query["issuer"] == ["social.example"] and query["secret"] == [secret]

    # The picture is that URI: encoding it again draws the same modules.
    drawn = _path_data(svg)
    assert drawn and drawn == _path_data(segno.make(uri, error="m", micro=False).svg_inline())
    assert drawn != _path_data(segno.make(uri.replace(secret, "A" * 32), error="m").svg_inline())
    assert "<script" not in page and "http" not in svg.lower()

    # An app that scanned it produces codes the page accepts.
    code = pyotp.parse_uri(uri).at(time.time())
    on = await api.client.post(
        "/settings/two_factor/confirm", data={"csrf_token": _csrf(page), "otp": code}
    )
    text = await on.text()
    assert on.status == 200 and "Two-factor authentication is on." in text
    assert "id='otp-qr'" not in text  # the key is not shown again


async def test_qr_caption_in_persian(site: Site) -> None:
    api = await site(federation=HTTP)
    await api.user("alice")
    page = await _setup_page(api, "fa")
    assert "<html lang='fa' dir='rtl'>" in page
    assert "یا این کد QR را با برنامه اسکن کنید:" in page and "<svg" in page
    assert "Or scan this QR code" not in page
