"""A started instance holds only the libraries serving needs: the ones that only some
requests use (pictures, link previews, pages, two-factor, mail, push encryption, HTML
sanitising) are imported on first use, so an idle process stays small."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import fedinode

# Imported on first use only; each costs 1 to 5 MB of every serving process.
FIRST_USE_ONLY = (
    "PIL",  # uploads and the remote media cache
    "blurhash_rs",
    "lxml",  # link preview cards
    "nh3",  # sanitising remote HTML
    "babel",  # pages and mails in another language, dates on pages
    "jinja2",  # HTML pages
    "segno",  # the two-factor QR code
    "pyotp",  # two-factor codes
    "aiosmtplib",  # sending mail
    "http_ece",  # Web Push encryption
    # Signing, verifying, parsing and making keys (~8 MB with its own OpenSSL): not before
    # the instance first signs or checks something, even on a new database whose keys
    # were made at this start (test_serve_lean.py runs the command and uses the keys).
    "cryptography",
)

# Handlers of endpoints few requests reach (``fedinode.api.routes``), with what only they
# use: imported at their first request (~0.9 MiB together).
FIRST_REQUEST_ONLY = (
    "fedinode.api.apps",
    "fedinode.api.oauth",
    "fedinode.services.oauth",
    "fedinode.api.filters",
    "fedinode.api.lists",
    "fedinode.services.lists",
    "fedinode.api.registrations",
    "fedinode.api.admin_accounts",
    "fedinode.api.admin_reports",
    "fedinode.api.scheduled_statuses",
    "fedinode.web.pages",
    "fedinode.web.sign_in",
    "fedinode.web.settings_pages",
    "fedinode.services.two_factor",
    "fedinode.web.admin.panel",  # the admin panel's pages
    "fedinode.web.admin.domains",
    "fedinode.web.render",
    "fedinode.web.i18n",
    "markupsafe",
    "fedinode.api.admin_domains",  # the admin API's domain and policy routes
    "fedinode.api.admin_policy_lists",
    "fedinode.api.admin_quarantine",
)

_START = """
import asyncio, dataclasses, json, sys

from aiohttp import web

from fedinode.app import create_app
from fedinode.config import load_config


async def main() -> None:
    raw = load_config(None, environ={})
    config = dataclasses.replace(
        raw,
        database=dataclasses.replace(raw.database, url=sys.argv[1]),
        media=dataclasses.replace(raw.media, directory=sys.argv[2]),
    )
    runner = web.AppRunner(create_app(config))
    await runner.setup()  # every cleanup context has started: store, federation, workers
    try:
        await asyncio.sleep(1.0)  # the background loops' first rounds
        print(json.dumps(sorted(set(sys.modules))))
    finally:
        await runner.cleanup()


asyncio.run(main())
"""


def _modules_after_start(database_url: str, media: Path) -> set[str]:
    root = Path(fedinode.__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run(
        [sys.executable, "-c", _START, database_url, str(media)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_a_started_instance_has_not_imported_the_first_use_libraries(
    database_url: str, tmp_path: Path
) -> None:
    loaded = _modules_after_start(database_url, tmp_path / "media")
    assert "fedinode.api.routes" in loaded  # it did start
    held = [name for name in FIRST_USE_ONLY if name in loaded]
    assert held == [], f"imported at start: {held}"


def test_a_started_instance_has_not_imported_the_handlers_of_rare_endpoints(
    database_url: str, tmp_path: Path
) -> None:
    loaded = _modules_after_start(database_url, tmp_path / "media")
    assert "fedinode.api.timelines" in loaded  # the hot paths' handlers are there
    held = [name for name in FIRST_REQUEST_ONLY if name in loaded]
    assert held == [], f"imported at start: {held}"
