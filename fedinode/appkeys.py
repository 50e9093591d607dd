"""Every typed application key in one place."""

from __future__ import annotations

from aiohttp import web

from activitypub.federation import Federation
from activitypub.policy_gate import PolicyGate
from activitypub.urls import Urls
from fedinode.config import Config
from fedinode.services.federator import Federator
from fedinode.services.media_processing import MediaProcessor
from fedinode.services.webpush import VapidKey
from storage.store import Store

CONFIG = web.AppKey("fedinode.config", Config)
STORE = web.AppKey("fedinode.store", Store)
URLS = web.AppKey("fedinode.urls", Urls)
POLICY = web.AppKey("fedinode.policy", PolicyGate)
# Set by the federation layer: the object that fetches, delivers and processes activities.
FEDERATION = web.AppKey("fedinode.federation", Federation)
# The services' typed view of it (``fedinode.federation.OutboxFederator``).
FEDERATOR = web.AppKey("fedinode.federator", Federator)
ROLE = web.AppKey("fedinode.role", str)
# The instance's VAPID key pair (Web Push), loaded once at start.
VAPID = web.AppKey("fedinode.vapid", VapidKey)
# Whether this process runs the periodic jobs (pruning, poll closing): one process of a
# ``serve --workers N`` fleet does.
PERIODIC = web.AppKey("fedinode.periodic", bool)
# Transcodes video, audio and GIF uploads (worker and all roles run it in the background).
MEDIA_PROCESSOR = web.AppKey("fedinode.media_processor", MediaProcessor)
