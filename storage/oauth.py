"""OAuth apps (their secrets stored hashed), access tokens (hashed) and authorization codes."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

from storage import token_cache
from storage.db import Database, placeholders
from storage.filters import note_filterless
from storage.ids import new_id, now_ms
from storage.models import Account, OAuthApp, OAuthCode, OAuthToken, User
from storage.rows import build, build_all, build_opt, columns

if TYPE_CHECKING:
    from storage.token_cache import TokenCache


def token_digest(token: str) -> str:
    """Tokens, codes and client secrets are kept only as SHA-256 digests: each is 32 random
    bytes, so a fast hash is enough (a slow KDF is for guessable passwords)."""
    return hashlib.sha256(token.encode()).hexdigest()


_BEARER_COLUMNS = ", ".join(
    (columns(OAuthToken, "t", "t_"), columns(User, "u", "u_"), columns(Account, "a", "a_"))
)
Bearer = tuple[OAuthToken, User | None, Account | None]


class OAuthStore:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._cache = cast("TokenCache[tuple[Bearer, bool]]", token_cache.cache_of(db))

    async def create_app(
        self,
        *,
        name: str,
        website: str | None,
        redirect_uris: str,
        scopes: str,
        client_id: str,
        client_secret: str,
    ) -> OAuthApp:
        """Register an app; only the digest of ``client_secret`` is kept."""
        row = await self._db.fetchrow(
            "INSERT INTO oauth_apps (id, name, website, redirect_uris, scopes, client_id, client_secret_hash, created_at)"
            " VALUES ($1,$2,$3,$4,$5,$6,$7,$8) RETURNING *",
            new_id(),
            name,
            website,
            redirect_uris,
            scopes,
            client_id,
            token_digest(client_secret),
            now_ms(),
        )
        assert row is not None
        return build(OAuthApp, row)

    async def app_by_client_id(self, client_id: str) -> OAuthApp | None:
        row = await self._db.fetchrow("SELECT * FROM oauth_apps WHERE client_id = $1", client_id)
        return build_opt(OAuthApp, row)

    async def app_by_credentials(self, client_id: str, client_secret: str) -> OAuthApp | None:
        """The app with this id whose secret is ``client_secret`` (compared in constant time)."""
        app = await self.app_by_client_id(client_id)
        digest = token_digest(client_secret)
        if app is None or not hmac.compare_digest(app.client_secret_hash, digest):
            return None
        return app

    async def get_app(self, app_id: int) -> OAuthApp | None:
        return build_opt(
            OAuthApp, await self._db.fetchrow("SELECT * FROM oauth_apps WHERE id = $1", app_id)
        )

    async def apps_many(self, app_ids: Sequence[int]) -> dict[int, OAuthApp]:
        ids = list(dict.fromkeys(app_ids))
        if not ids:
            return {}
        rows = await self._db.fetch(
            f"SELECT * FROM oauth_apps WHERE id IN ({placeholders(1, len(ids))})", *ids
        )
        return {a.id: a for a in build_all(OAuthApp, rows)}

    async def create_token(
        self, token: str, *, app_id: int | None, user_id: int | None, scopes: str
    ) -> OAuthToken:
        row = await self._db.fetchrow(
            "INSERT INTO oauth_tokens (id, token_hash, app_id, user_id, scopes, created_at)"
            " VALUES ($1,$2,$3,$4,$5,$6) RETURNING *",
            new_id(),
            token_digest(token),
            app_id,
            user_id,
            scopes,
            now_ms(),
        )
        assert row is not None
        return build(OAuthToken, row)

    async def token(self, token: str) -> OAuthToken | None:
        row = await self._db.fetchrow(
            "SELECT * FROM oauth_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
            token_digest(token),
        )
        return build_opt(OAuthToken, row)

    async def bearer(self, token: str) -> Bearer | None:
        """A live token with its user and the user's account, in one query (every API
        request asks), or from this process's cache of it (``storage.token_cache``: dropped
        on any change to tokens, users, local accounts or filters). None when the token is
        unknown or revoked."""
        digest = token_digest(token)
        kept = self._cache.get(digest)
        if kept is None:
            generation = self._cache.generation
            row = await self._db.fetchrow(
                f"SELECT {_BEARER_COLUMNS},"
                " EXISTS (SELECT 1 FROM filters f WHERE f.account_id = a.id) AS a_filters"
                " FROM oauth_tokens t"
                " LEFT JOIN users u ON u.id = t.user_id LEFT JOIN accounts a ON a.id = u.account_id"
                " WHERE t.token_hash = $1 AND t.revoked_at IS NULL",
                digest,
            )
            if row is None:
                return None
            user = build(User, row, "u_") if row["u_id"] is not None else None
            account = build(Account, row, "a_") if row["a_id"] is not None else None
            kept = ((build(OAuthToken, row, "t_"), user, account), not row["a_filters"])
            self._cache.put(digest, kept, generation)
        found, filterless = kept
        # The request's filter lookup needs no round trip of its own when there are none.
        note_filterless(found[2].id if found[2] else None, filterless)
        return found

    async def follow_changes(self) -> None:
        """Run until cancelled: what lets ``bearer`` answer from its cache (``token_cache``)."""
        await token_cache.follow(self._db)

    async def instance_secret(self, name: str) -> str:
        """A random secret kept in the database (shared by every process), made on first use."""
        value = await self._db.fetchval("SELECT value FROM instance_secrets WHERE name = $1", name)
        if value is not None:
            return str(value)
        import secrets

        await self._db.execute(
            "INSERT INTO instance_secrets (name, value, created_at) VALUES ($1, $2, $3)"
            " ON CONFLICT DO NOTHING",
            name,
            secrets.token_urlsafe(48),
            now_ms(),
        )
        return str(
            await self._db.fetchval("SELECT value FROM instance_secrets WHERE name = $1", name)
        )

    async def touch_token(self, token_id: int, when: int) -> None:
        await self._db.execute(
            "UPDATE oauth_tokens SET last_used_at = $1 WHERE id = $2", when, token_id
        )
        # Ours only: another process's copy is an hour old too and touches it once itself.
        self._cache.drop_all()

    async def revoke_user_tokens(self, user_id: int, *, keep_token_id: int | None = None) -> int:
        """Revoke every live token of the user but ``keep_token_id``; how many were revoked."""
        count = await self._db.execute(
            "UPDATE oauth_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL"
            " AND id <> $3",
            now_ms(),
            user_id,
            0 if keep_token_id is None else keep_token_id,
        )
        if count:
            await token_cache.changed(self._db)
        return count

    async def live_user_tokens(self, user_id: int) -> list[OAuthToken]:
        """The user's tokens that still work (app sessions), most recently used first."""
        rows = await self._db.fetch(
            "SELECT * FROM oauth_tokens WHERE user_id = $1 AND revoked_at IS NULL"
            " ORDER BY COALESCE(last_used_at, created_at) DESC, id DESC",
            user_id,
        )
        return build_all(OAuthToken, rows)

    async def revoke_user_token(self, user_id: int, token_id: int) -> bool:
        """Revoke one of the user's tokens by its id (the settings' "revoke" button)."""
        count = await self._db.execute(
            "UPDATE oauth_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3"
            " AND revoked_at IS NULL",
            now_ms(),
            token_id,
            user_id,
        )
        if count:
            await token_cache.changed(self._db)
        return count > 0

    async def revoke_token(self, token: str, *, app_id: int | None = None) -> bool:
        if app_id is None:
            count = await self._db.execute(
                "UPDATE oauth_tokens SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL",
                now_ms(),
                token_digest(token),
            )
        else:
            count = await self._db.execute(
                "UPDATE oauth_tokens SET revoked_at = $1 WHERE token_hash = $2 AND app_id = $3 AND revoked_at IS NULL",
                now_ms(),
                token_digest(token),
                app_id,
            )
        if count:
            await token_cache.changed(self._db)
        return count > 0

    async def create_code(
        self,
        code: str,
        *,
        app_id: int,
        user_id: int,
        redirect_uri: str,
        scopes: str,
        code_challenge: str | None,
        code_challenge_method: str | None,
        ttl_ms: int = 10 * 60 * 1000,
    ) -> None:
        await self._db.execute(
            "INSERT INTO oauth_codes (code_hash, app_id, user_id, redirect_uri, scopes, code_challenge,"
            " code_challenge_method, expires_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
            token_digest(code),
            app_id,
            user_id,
            redirect_uri,
            scopes,
            code_challenge,
            code_challenge_method,
            now_ms() + ttl_ms,
        )

    async def take_code(self, code: str) -> OAuthCode | None:
        """Consume a code: it can be exchanged once, and only before it expires."""
        row = await self._db.fetchrow(
            "DELETE FROM oauth_codes WHERE code_hash = $1 RETURNING *", token_digest(code)
        )
        found = build_opt(OAuthCode, row)
        if found is None or found.expires_at < now_ms():
            return None
        return found
