"""Accounts (local and remote actors) and local users."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from storage import token_cache
from storage.db import Connection, Database, placeholders
from storage.errors import Conflict, InviteUnusable, NotFound
from storage.ids import new_id, now_ms
from storage.models import Account, AccountStatus, User
from storage.rows import build, build_all, build_opt, columns, dumps

_ACCOUNT_COLUMNS = (
    "username, domain, uri, url, actor_type, display_name, note, note_source, avatar_url,"
    " header_url, locked, bot, discoverable, indexable, fields, emojis, also_known_as,"
    " moved_to_account_id, inbox_url, outbox_url, shared_inbox_url, followers_url,"
    " following_url, featured_url, public_key_id, public_key_pem, private_key_pem"
)
_UPDATABLE = frozenset(
    c.strip() for c in _ACCOUNT_COLUMNS.split(",") if c.strip() not in ("username", "domain", "uri")
) | {"silenced", "suspended", "fetched_at"}
_JSON_COLUMNS = frozenset({"fields", "emojis", "also_known_as"})
# Accounts that people may find or count: remote ones, and local ones with a user (the
# instance actor is a local account without one).
_LISTED = (
    "(accounts.domain <> '' OR EXISTS (SELECT 1 FROM users lu WHERE lu.account_id = accounts.id))"
)


@dataclass(frozen=True, slots=True)
class NewAccount:
    username: str
    domain: str
    uri: str
    url: str = ""
    actor_type: str = "Person"
    display_name: str = ""
    note: str = ""
    note_source: str = ""
    avatar_url: str = ""
    header_url: str = ""
    locked: bool = False
    bot: bool = False
    discoverable: bool = True
    indexable: bool = True
    fields: list[dict[str, Any]] = field(default_factory=list)
    emojis: list[dict[str, Any]] = field(default_factory=list)
    also_known_as: list[str] = field(default_factory=list)
    moved_to_account_id: int | None = None
    inbox_url: str = ""
    outbox_url: str = ""
    shared_inbox_url: str = ""
    followers_url: str = ""
    following_url: str = ""
    featured_url: str = ""
    public_key_id: str = ""
    public_key_pem: str = ""
    private_key_pem: str = ""

    def values(self) -> list[Any]:
        out: list[Any] = []
        for name in _ACCOUNT_COLUMNS.split(","):
            value = getattr(self, name.strip())
            out.append(dumps(value) if name.strip() in _JSON_COLUMNS else value)
        return out


# A status's version (``storage.timelines``) is its own ``rev`` and its author's: what its
# mentions show of the accounts they name (the handle, which never changes, and the URL) is
# folded into the status's ``rev`` here, on the rare change of a mentioned account's URL or
# its removal, so that a timeline page need not look the mentions up for every row.
_BUMP_MENTIONING = (
    "UPDATE statuses SET rev = rev + 1"
    " WHERE id IN (SELECT status_id FROM mentions WHERE account_id = $1)"
)


class AccountStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, new: NewAccount, *, conn: Connection | None = None) -> Account:
        ident = new_id()
        now = now_ms()
        n = len(_ACCOUNT_COLUMNS.split(","))
        placeholders = ", ".join(f"${i}" for i in range(1, n + 5))
        # A remote account is made from the actor document just fetched: it is fresh (not
        # refetched by the next activity that names it).
        row = await (conn or self._db).fetchrow(
            f"INSERT INTO accounts ({_ACCOUNT_COLUMNS}, id, created_at, updated_at, fetched_at)"
            f" VALUES ({placeholders}) ON CONFLICT DO NOTHING RETURNING *",
            *new.values(),
            ident,
            now,
            now,
            now if new.domain else None,
        )
        if row is None:
            raise Conflict(f"account {new.username}@{new.domain or 'local'} exists")
        return build(Account, row)

    async def upsert_remote(self, new: NewAccount) -> Account:
        """Create a remote account or refresh it from a newly fetched actor document."""
        existing = await self.by_uri(new.uri)
        if existing is None:
            try:
                return await self.create(new)
            except Conflict:
                existing = await self.by_uri(new.uri)
                if existing is None:
                    # Same handle, new actor URI: the old actor was replaced on that server.
                    old = await self.by_handle(new.username, new.domain)
                    if old is None:
                        raise
                    await self._db.execute(
                        "UPDATE accounts SET uri = $1, rev = rev + 1 WHERE id = $2", new.uri, old.id
                    )
                    await self._db.execute(_BUMP_MENTIONING, old.id)  # a mention's URL is its uri
                    existing = old
        changes = {
            name.strip(): getattr(new, name.strip())
            for name in _ACCOUNT_COLUMNS.split(",")
            if name.strip() not in ("username", "domain", "uri", "private_key_pem")
        }
        if changes["url"] == existing.url:
            del changes["url"]  # spares ``update`` its look at the statuses mentioning it
        changes["fetched_at"] = now_ms()
        return await self.update(existing.id, **changes)

    async def update(self, account_id: int, **changes: Any) -> Account:
        unknown = set(changes) - _UPDATABLE
        if unknown:
            raise ValueError(f"not updatable: {sorted(unknown)}")
        sets = []
        args: list[Any] = []
        for i, (name, value) in enumerate(changes.items(), start=1):
            sets.append(f"{name} = ${i}")
            args.append(dumps(value) if name in _JSON_COLUMNS else value)
        args += [now_ms(), account_id]
        if "url" in changes:  # before: what it was is still there to compare with
            await self._db.execute(
                f"{_BUMP_MENTIONING} AND EXISTS (SELECT 1 FROM accounts"
                " WHERE id = $1 AND url <> COALESCE($2, ''))",
                account_id,
                changes["url"],
            )
        row = await self._db.fetchrow(
            f"UPDATE accounts SET {', '.join(sets)}, updated_at = ${len(args) - 1}, rev = rev + 1"
            f" WHERE id = ${len(args)} RETURNING *",
            *args,
        )
        if row is None:
            from storage.errors import NotFound

            raise NotFound("account")
        if not row["domain"]:  # a local account: a bearer token may show it
            await token_cache.changed(self._db)
        return build(Account, row)

    async def get(self, account_id: int) -> Account | None:
        return build_opt(
            Account, await self._db.fetchrow("SELECT * FROM accounts WHERE id = $1", account_id)
        )

    async def get_many(self, ids: list[int]) -> dict[int, Account]:
        if not ids:
            return {}
        unique = list(dict.fromkeys(ids))
        marks = ", ".join(f"${i}" for i in range(1, len(unique) + 1))
        rows = await self._db.fetch(f"SELECT * FROM accounts WHERE id IN ({marks})", *unique)
        return {a.id: a for a in build_all(Account, rows)}

    async def by_uri(self, uri: str) -> Account | None:
        return build_opt(
            Account, await self._db.fetchrow("SELECT * FROM accounts WHERE uri = $1", uri)
        )

    async def by_uris(self, uris: Sequence[str]) -> dict[str, Account]:
        """The stored accounts of these URIs, by URI (one statement; at most a few hundred)."""
        wanted = list(dict.fromkeys(uris))
        if not wanted:
            return {}
        rows = await self._db.fetch(
            f"SELECT * FROM accounts WHERE uri IN ({placeholders(1, len(wanted))})", *wanted
        )
        return {a.uri: a for a in build_all(Account, rows)}

    async def by_key_id(self, key_id: str) -> Account | None:
        row = await self._db.fetchrow("SELECT * FROM accounts WHERE public_key_id = $1", key_id)
        return build_opt(Account, row)

    async def by_handle(self, username: str, domain: str = "") -> Account | None:
        row = await self._db.fetchrow(
            "SELECT * FROM accounts WHERE lower(username) = lower($1) AND domain = $2",
            username,
            domain.lower(),
        )
        return build_opt(Account, row)

    async def search(
        self, query: str, *, limit: int = 20, offset: int = 0, local_only: bool = False
    ) -> list[Account]:
        like = "%" + query.lower().replace("%", "").replace("_", "") + "%"
        rows = await self._db.fetch(
            "SELECT * FROM accounts WHERE NOT suspended AND (lower(username) LIKE $1"
            " OR lower(display_name) LIKE $1 OR lower(username || '@' || domain) LIKE $1)"
            + (" AND domain = ''" if local_only else "")
            + f" AND {_LISTED}"
            + " ORDER BY (domain = '') DESC, followers_count DESC, id LIMIT $2 OFFSET $3",
            like,
            limit,
            offset,
        )
        return build_all(Account, rows)

    async def adjust_counts(
        self,
        account_id: int,
        *,
        statuses: int = 0,
        followers: int = 0,
        following: int = 0,
        conn: Connection | None = None,
        last_status_at: int | None = None,
    ) -> None:
        await (conn or self._db).execute(
            "UPDATE accounts SET statuses_count = MAX_FN(statuses_count + $1, 0),"
            " followers_count = MAX_FN(followers_count + $2, 0),"
            " following_count = MAX_FN(following_count + $3, 0),"
            " last_status_at = COALESCE($4, last_status_at), rev = rev + 1 WHERE id = $5".replace(
                "MAX_FN", "GREATEST" if self._db.dialect == "postgres" else "MAX"
            ),
            statuses,
            followers,
            following,
            last_status_at,
            account_id,
        )

    async def list_local(self, *, limit: int = 40, offset: int = 0) -> list[Account]:
        rows = await self._db.fetch(
            f"SELECT * FROM accounts WHERE domain = '' AND {_LISTED} ORDER BY id LIMIT $1 OFFSET $2",
            limit,
            offset,
        )
        return build_all(Account, rows)

    async def list_filtered(
        self,
        *,
        local: bool | None = None,
        domain: str | None = None,
        status: AccountStatus | None = None,
        username: str | None = None,
        max_id: int | None = None,
        since_id: int | None = None,
        limit: int = 40,
    ) -> list[Account]:
        where = [_LISTED]
        args: list[Any] = []
        if local is True:
            where.append("domain = ''")
        elif local is False:
            where.append("domain <> ''")
        if domain:
            args.append(domain.lower())
            where.append(f"domain = ${len(args)}")
        if username:
            args.append(username.lower() + "%")
            where.append(f"lower(username) LIKE ${len(args)}")
        if status == AccountStatus.SUSPENDED:
            where.append("suspended")
        elif status == AccountStatus.SILENCED:
            where.append("silenced")
        elif status == AccountStatus.ACTIVE:
            where.append("NOT suspended")
        if max_id is not None:
            args.append(max_id)
            where.append(f"id < ${len(args)}")
        if since_id is not None:
            args.append(since_id)
            where.append(f"id > ${len(args)}")
        args.append(limit)
        rows = await self._db.fetch(
            f"SELECT * FROM accounts WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT ${len(args)}",
            *args,
        )
        return build_all(Account, rows)

    async def domains(self) -> list[str]:
        rows = await self._db.fetch(
            "SELECT DISTINCT domain FROM accounts WHERE domain <> '' ORDER BY domain"
        )
        return [r["domain"] for r in rows]

    async def delete(self, account_id: int) -> None:
        await self._db.execute(_BUMP_MENTIONING, account_id)  # their mentions lose it
        if await self._db.execute("DELETE FROM accounts WHERE id = $1", account_id):
            await token_cache.changed(self._db)


_CREDENTIAL_COLUMNS = ", ".join((columns(User, "u", "u_"), columns(Account, "a", "a_")))


@dataclass(frozen=True, slots=True)
class Credential:
    """A signed-in user as ``verify_credentials`` shows it."""

    user: User
    account: Account
    follow_requests: int


class UserStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self,
        account: NewAccount,
        *,
        email: str,
        password_hash: str,
        admin: bool = False,
        approved: bool = True,
        confirmed: bool = True,
        reason: str = "",
        locale: str = "en",
        invite_id: int | None = None,
    ) -> tuple[User, Account]:
        """Create a local user and its account atomically; Conflict on a taken name or
        email, InviteUnusable when ``invite_id`` names an invite that is used up, expired
        or revoked (its use is counted in the same transaction)."""
        if await self.by_email(email) is not None:
            raise Conflict(f"email {email} is already in use")
        now = now_ms()
        async with self._db.transaction() as tx:
            if await tx.fetchrow(
                "SELECT id FROM accounts WHERE lower(username) = lower($1) AND domain = ''",
                account.username,
            ):
                raise Conflict(f"username {account.username} is already taken")
            if invite_id is not None:
                counted = await tx.execute(
                    "UPDATE invites SET uses = uses + 1 WHERE id = $1 AND revoked_at IS NULL"
                    " AND (max_uses IS NULL OR uses < max_uses)"
                    " AND (expires_at IS NULL OR expires_at > $2)",
                    invite_id,
                    now,
                )
                if not counted:
                    raise InviteUnusable("this invite is used up, expired or revoked")
            acct = await AccountStore(self._db).create(account, conn=tx)
            row = await tx.fetchrow(
                "INSERT INTO users (id, account_id, email, password_hash, admin, approved,"
                " created_at, confirmed_at, reason, locale, invite_id)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING *",
                new_id(),
                acct.id,
                email,
                password_hash,
                admin,
                approved,
                now,
                now if confirmed else None,
                reason,
                locale,
                invite_id,
            )
            assert row is not None
            return build(User, row), acct

    async def get(self, user_id: int) -> User | None:
        return build_opt(
            User, await self._db.fetchrow("SELECT * FROM users WHERE id = $1", user_id)
        )

    async def credential(self, user_id: int, *, requests_up_to: int) -> Credential | None:
        """The user, its account and how many follow requests wait for it (at most
        ``requests_up_to``, counted as a page of them would be), in one query: what
        ``verify_credentials`` shows, read fresh on every call."""
        row = await self._db.fetchrow(
            f"SELECT {_CREDENTIAL_COLUMNS},"
            " (SELECT COUNT(*) FROM (SELECT 1 FROM follow_requests x"
            " JOIN accounts r ON r.id = x.account_id WHERE x.target_account_id = a.id"
            " LIMIT $2) q) AS follow_requests"
            " FROM users u JOIN accounts a ON a.id = u.account_id WHERE u.id = $1",
            user_id,
            requests_up_to,
        )
        if row is None:
            return None
        return Credential(
            build(User, row, "u_"), build(Account, row, "a_"), int(row["follow_requests"])
        )

    async def by_account(self, account_id: int) -> User | None:
        return build_opt(
            User, await self._db.fetchrow("SELECT * FROM users WHERE account_id = $1", account_id)
        )

    async def by_email(self, email: str) -> User | None:
        row = await self._db.fetchrow("SELECT * FROM users WHERE lower(email) = lower($1)", email)
        return build_opt(User, row)

    async def by_login(self, login: str) -> User | None:
        """A user by email or by local username (users log in with either)."""
        row = await self._db.fetchrow(
            "SELECT u.* FROM users u JOIN accounts a ON a.id = u.account_id"
            " WHERE lower(u.email) = lower($1) OR (lower(a.username) = lower($1) AND a.domain = '')",
            login,
        )
        return build_opt(User, row)

    async def by_username(self, username: str) -> User | None:
        """The local user with this username (any case)."""
        row = await self._db.fetchrow(
            "SELECT u.* FROM users u JOIN accounts a ON a.id = u.account_id"
            " WHERE lower(a.username) = lower($1) AND a.domain = ''",
            username,
        )
        return build_opt(User, row)

    async def set_password(
        self, user_id: int, password_hash: str, *, keep_token_id: int | None = None
    ) -> int:
        """Store a new password hash and revoke the user's access tokens (all but
        ``keep_token_id``) in one transaction; how many tokens were revoked. NotFound for
        no such user."""
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE users SET password_hash = $1 WHERE id = $2", password_hash, user_id
            )
            if not changed:
                raise NotFound("user")
            revoked = await tx.execute(
                "UPDATE oauth_tokens SET revoked_at = $1 WHERE user_id = $2"
                " AND revoked_at IS NULL AND id <> $3",
                now_ms(),
                user_id,
                0 if keep_token_id is None else keep_token_id,
            )
        await token_cache.changed(self._db)
        return revoked

    async def rehash_password(self, user_id: int, old_hash: str, new_hash: str) -> bool:
        """Replace ``old_hash`` by ``new_hash`` (the same password at a new cost) unless the
        password changed meanwhile; whether it was replaced."""
        changed = await self._db.execute(
            "UPDATE users SET password_hash = $1 WHERE id = $2 AND password_hash = $3",
            new_hash,
            user_id,
            old_hash,
        )
        if changed:
            await token_cache.changed(self._db)
        return changed > 0

    async def update(self, user_id: int, **changes: Any) -> User:
        allowed = {
            "admin", "approved", "disabled", "locale", "settings", "password_hash", "email",
            "confirmed_at",
        }  # fmt: skip
        if set(changes) - allowed:
            raise ValueError(f"not updatable: {sorted(set(changes) - allowed)}")
        sets = []
        args: list[Any] = []
        for i, (name, value) in enumerate(changes.items(), start=1):
            sets.append(f"{name} = ${i}")
            args.append(dumps(value) if name == "settings" else value)
        args.append(user_id)
        row = await self._db.fetchrow(
            f"UPDATE users SET {', '.join(sets)} WHERE id = ${len(args)} RETURNING *", *args
        )
        if row is None:
            raise NotFound("user")
        await token_cache.changed(self._db)
        return build(User, row)

    async def count(self) -> int:
        return int(await self._db.fetchval("SELECT COUNT(*) FROM users WHERE NOT disabled"))

    async def admin_account_ids(self) -> list[int]:
        rows = await self._db.fetch(
            "SELECT account_id FROM users WHERE admin AND NOT disabled ORDER BY id"
        )
        return [int(r["account_id"]) for r in rows]
