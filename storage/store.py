"""The Store: one object that holds every aggregate's repository over one database."""

from __future__ import annotations

import asyncio

from storage import events, ids
from storage.account_domain_blocks import AccountDomainBlockStore
from storage.accounts import AccountStore, UserStore
from storage.conversations import ConversationStore
from storage.custom_emojis import CustomEmojiStore
from storage.db import Database, open_database, sqlite_path
from storage.effects import PendingEffectStore
from storage.filters import FilterStore
from storage.ids import now_ms
from storage.intents import IntentStore
from storage.interactions import InteractionStore
from storage.jobs import JobLeaseStore
from storage.lists import ListStore
from storage.mail import MailOutboxStore
from storage.markers import MarkerStore
from storage.media import MediaStore
from storage.media_cache import MediaCacheStore
from storage.media_jobs import MediaJobStore
from storage.migrate import migrate
from storage.models import InstanceStats
from storage.moderation import ModerationStore
from storage.notifications import NotificationStore
from storage.oauth import OAuthStore
from storage.peer_usage import PeerUsageStore
from storage.policy_lists import PolicyListStore
from storage.policy_rows import PolicyStore
from storage.polls import PollStore
from storage.preview_cards import PreviewCardStore
from storage.push import PushStore
from storage.quarantine import QuarantineStore
from storage.queues import LeaseOwner, QueueStore, TakenBack
from storage.rate_counters import RateCounterStore
from storage.relationships import RelationshipStore
from storage.reports import ReportStore
from storage.scheduled import ScheduledStatusStore
from storage.search import SearchStore
from storage.signups import InviteStore, UserTokenStore
from storage.slots import SlotClaim, claim_slot, slot_of_owner_name, slot_owner_name
from storage.stats import StatsStore
from storage.statuses import StatusStore
from storage.tags import TagStore
from storage.timelines import TimelineStore
from storage.tombstones import TombstoneStore
from storage.web_sessions import OtpStore, WebSessionStore

_DAY_MS = 86_400_000
# Instance figures (users, posts, servers) are counted at most this often per process: the
# counts cost more as the tables grow, and the instance endpoint is read by every app launch.
STATS_MAX_AGE_MS = 60_000
_held: list[SlotClaim] = []  # slots this process holds, latest last


class Store:
    """Every repository over one database; both backends share this code."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.url = ""  # what it was opened from (Store.open)
        self.slot: SlotClaim | None = None
        self._stats: tuple[int, InstanceStats] | None = None  # (counted at, figures)
        self._stats_lock = asyncio.Lock()
        self.accounts = AccountStore(db)
        self.users = UserStore(db)
        self.statuses = StatusStore(db)
        self.relationships = RelationshipStore(db)
        self.account_domain_blocks = AccountDomainBlockStore(db)
        self.interactions = InteractionStore(db)
        self.notifications = NotificationStore(db)
        self.oauth = OAuthStore(db)
        self.queues = QueueStore(db)
        self.policy = PolicyStore(db)
        self.policy_lists = PolicyListStore(db)
        self.quarantine = QuarantineStore(db)
        self.peer_usage = PeerUsageStore(db)
        self.media = MediaStore(db)
        self.media_cache = MediaCacheStore(db)
        self.media_jobs = MediaJobStore(db)
        self.custom_emojis = CustomEmojiStore(db)
        self.preview_cards = PreviewCardStore(db)
        self.lists = ListStore(db)
        self.markers = MarkerStore(db)
        self.filters = FilterStore(db)
        self.tags = TagStore(db)
        self.conversations = ConversationStore(db)
        self.moderation = ModerationStore(db)
        self.search = SearchStore(db)
        self.reports = ReportStore(db)
        self.polls = PollStore(db)
        self.tombstones = TombstoneStore(db)
        self.effects = PendingEffectStore(db)
        self.intents = IntentStore(db)
        self.jobs = JobLeaseStore(db)
        self.timelines = TimelineStore(db)
        self.stats = StatsStore(db)
        self.push = PushStore(db)
        self.invites = InviteStore(db)
        self.user_tokens = UserTokenStore(db)
        self.mail = MailOutboxStore(db)
        self.scheduled_statuses = ScheduledStatusStore(db)
        self.web_sessions = WebSessionStore(db)
        self.rate_counters = RateCounterStore(db)
        self.otp = OtpStore(db)

    @property
    def dialect(self) -> str:
        return self.db.dialect

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        run_migrations: bool = True,
        events_url: str = "",
        events_prefix: str = "",
        pool_size: int = 10,
    ) -> Store:
        """``events_url`` (``redis://…``): events cross processes through Redis pub/sub on
        channels prefixed ``events_prefix``, not through the database."""
        db = await open_database(url, pool_size=pool_size)
        if run_migrations:
            try:
                applied = await migrate(db)
            except BaseException:
                await db.close()
                raise
            if applied and db.dialect == "sqlite" and sqlite_path(url) != ":memory:":
                # The writer keeps what migrating left in its caches (every page the
                # migrations wrote, their DDL statements: ~1 MB on a new database), which
                # serving never reads again: serve from fresh connections instead.
                await db.close()
                db = await open_database(url, pool_size=pool_size)
        store = cls(db)
        store.url = url
        if events_url:
            from storage.redis_events import RedisEvents

            events.route(db, RedisEvents(events_url, events_prefix))
        return store

    async def claim_process_slot(self, *, worker_name: str = "") -> SlotClaim:
        """Hold an id slot of this database for this process and name the process on the
        queue rows it leases: ``worker_name`` if set, else ``<host>#slot<N>``.

        New ids carry the slot, so processes sharing the database never make the same id.
        The name is what a restarted process shares with the one that died (the lowest free
        slot is taken, so usually the same one), and lets it take back that one's leases.
        Held until ``close``; a store that never claims makes ids in a random slot.
        """
        if self.slot is None:
            self.slot = await claim_slot(self.url)
            _held.append(self.slot)
            ids.set_slot(self.slot.slot)
        import socket

        name = worker_name or slot_owner_name(socket.gethostname(), self.slot.slot)
        self.queues.configure_leases(LeaseOwner.for_process(name))
        return self.slot

    async def take_back_leases(self) -> TakenBack:
        """Queue again, due now, the rows held by processes that died: this process's
        earlier run (same name), and any process named after an id slot nobody holds now
        (it crashed and came back under another slot, or not at all)."""
        dead = []
        if self.slot is not None:
            mine = self.queues.owner.name
            for owner, boot in await self.queues.lease_holders():
                slot = slot_of_owner_name(owner)
                if owner == mine or slot is None:
                    continue
                # Named after the slot this process holds now, or after one nobody holds:
                # the process that held it has gone.
                if slot == self.slot.slot or not await self.slot.is_held(slot):
                    dead.append((owner, boot))
        return await self.queues.take_back_leases(dead)

    async def close(self) -> None:
        slot, self.slot = self.slot, None
        bus = events.bus_of(self.db)
        try:
            if bus is not None:
                events.route(self.db, None)
                await bus.close()
            await self.db.close()
        finally:
            if slot is not None:
                _held.remove(slot)
                # Ids go on in a slot this process still holds (several stores: tests).
                ids.set_slot(_held[-1].slot if _held else None)
                await slot.release()

    async def instance_stats(self) -> InstanceStats:
        """Users, local posts, known servers and active users; counted at most once per
        ``STATS_MAX_AGE_MS`` in this process, by one request while the others wait."""
        async with self._stats_lock:
            if self._stats is None or now_ms() - self._stats[0] >= STATS_MAX_AGE_MS:
                self._stats = (now_ms(), await self._count_instance_stats())
            return self._stats[1]

    async def _count_instance_stats(self) -> InstanceStats:
        now = now_ms()
        users = await self.db.fetchval(
            "SELECT COUNT(*) FROM users u JOIN accounts a ON a.id = u.account_id WHERE NOT u.disabled AND NOT a.suspended"
        )
        posts = await self.statuses.count_local()
        domains = await self.db.fetchval(
            "SELECT COUNT(DISTINCT domain) FROM accounts WHERE domain <> ''"
        )

        async def active(days: int) -> int:
            return int(
                await self.db.fetchval(
                    "SELECT COUNT(*) FROM users u JOIN accounts a ON a.id = u.account_id"
                    " WHERE NOT u.disabled AND (a.last_status_at >= $1 OR u.created_at >= $1)",
                    now - days * _DAY_MS,
                )
            )

        return InstanceStats(
            user_count=int(users),
            local_posts=posts,
            domain_count=int(domains),
            active_month=await active(30),
            active_halfyear=await active(180),
        )
