"""The Store: one object that holds every aggregate's repository over one database."""

from __future__ import annotations

from storage.accounts import AccountStore, UserStore
from storage.conversations import ConversationStore
from storage.db import Database, open_database
from storage.effects import PendingEffectStore
from storage.filters import FilterStore
from storage.ids import now_ms
from storage.interactions import InteractionStore
from storage.lists import ListStore
from storage.markers import MarkerStore
from storage.media import MediaStore
from storage.migrate import migrate
from storage.models import InstanceStats
from storage.moderation import ModerationStore
from storage.notifications import NotificationStore
from storage.oauth import OAuthStore
from storage.policy_rows import PolicyStore
from storage.polls import PollStore
from storage.push import PushStore
from storage.queues import QueueStore
from storage.relationships import RelationshipStore
from storage.reports import ReportStore
from storage.search import SearchStore
from storage.stats import StatsStore
from storage.statuses import StatusStore
from storage.tags import TagStore
from storage.timelines import TimelineStore
from storage.tombstones import TombstoneStore

_DAY_MS = 86_400_000


class Store:
    """Every repository over one database; both backends share this code."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.accounts = AccountStore(db)
        self.users = UserStore(db)
        self.statuses = StatusStore(db)
        self.relationships = RelationshipStore(db)
        self.interactions = InteractionStore(db)
        self.notifications = NotificationStore(db)
        self.oauth = OAuthStore(db)
        self.queues = QueueStore(db)
        self.policy = PolicyStore(db)
        self.media = MediaStore(db)
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
        self.timelines = TimelineStore(db)
        self.stats = StatsStore(db)
        self.push = PushStore(db)

    @property
    def dialect(self) -> str:
        return self.db.dialect

    @classmethod
    async def open(cls, url: str, *, run_migrations: bool = True) -> Store:
        db = await open_database(url)
        if run_migrations:
            try:
                await migrate(db)
            except BaseException:
                await db.close()
                raise
        return cls(db)

    async def close(self) -> None:
        await self.db.close()

    async def instance_stats(self) -> InstanceStats:
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
