"""Database growth per status on PostgreSQL, measured on statuses made the way users make them.

Creates a fresh database, ``--accounts`` local users each following ``--follows`` others,
then posts ``--statuses`` statuses through the same service the API uses (text of about
``--chars`` characters, every fifth with a hashtag, every tenth a reply), runs VACUUM
ANALYZE and prints, per table that grew, its rows and its bytes (heap, TOAST and indexes)
per row and per status, and the whole database's growth per status: what a million
statuses cost on disk.

    python bench/db_growth.py [--statuses 20000] [--accounts 200] [--follows 20]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from activitypub.urls import Urls
from fedinode.config import load_config
from fedinode.services.context import Ctx
from fedinode.services.statuses import StatusInput, post_status
from fedinode.services.users import create_local_user
from storage.store import Store

DATABASE = "fedinode_bench_db_growth"
WORDS = (
    "the federation of community instances carries posts between servers in every script "
    "people write their own timelines follow friends read replies boost and favourite notes"
).split()


async def fresh_database(admin_url: str) -> str:
    import asyncpg

    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        await conn.execute(f"CREATE DATABASE {DATABASE}")
    finally:
        await conn.close()
    return admin_url.rsplit("/", 1)[0] + f"/{DATABASE}"


async def table_sizes(store: Store) -> dict[str, tuple[int, int]]:
    """table → (rows, bytes with TOAST and indexes)."""
    rows = await store.db.fetch(
        "SELECT c.relname AS name, pg_total_relation_size(c.oid) AS bytes"
        " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.relkind = 'r' AND n.nspname = current_schema()"
    )
    out = {}
    for row in rows:
        name = str(row["name"])
        count = int(await store.db.fetchval(f'SELECT COUNT(*) FROM "{name}"'))
        out[name] = (count, int(row["bytes"]))
    return out


def text_of(rng: random.Random, chars: int, index: int) -> str:
    words: list[str] = []
    while sum(len(w) + 1 for w in words) < chars:
        words.append(rng.choice(WORDS))
    if index % 5 == 0:
        words.append(f"#topic{index % 50}")
    return " ".join(words)


async def main(args: argparse.Namespace) -> None:
    url = await fresh_database(args.postgres_url)
    base = load_config(None, environ={})
    config = dataclasses.replace(
        base,
        instance=dataclasses.replace(base.instance, domain="growth.example"),
        database=dataclasses.replace(base.database, url=url),
    )
    store = await Store.open(url)
    await store.claim_process_slot()
    ctx = Ctx(store=store, config=config, urls=Urls(config.base_url))
    rng = random.Random(7)
    try:
        accounts = []
        for i in range(args.accounts):
            _, account = await create_local_user(
                store, ctx.urls, username=f"user{i}", email=f"u{i}@growth.example",
                password="benchmark-password",
            )  # fmt: skip
            accounts.append(account)
        for account in accounts:
            for other in rng.sample(accounts, args.follows + 1):
                if other.id != account.id:
                    await store.relationships.follow(account.id, other.id)
        await store.db.execute("VACUUM ANALYZE")
        before = await table_sizes(store)
        db_before = int(await store.db.fetchval("SELECT pg_database_size(current_database())"))
        posted: list[int] = []
        started = time.perf_counter()

        async def poster(worker: int) -> None:
            for index in range(worker, args.statuses, args.concurrency):
                account = accounts[index % len(accounts)]
                reply_to = posted[rng.randrange(len(posted))] if index % 10 == 9 and posted else None
                status = await post_status(
                    ctx, account,
                    StatusInput(text=text_of(rng, args.chars, index), media_ids=[], poll=None,
                                in_reply_to_id=reply_to, sensitive=False, spoiler_text="",
                                visibility="public", language="en"),
                    application_id=None, idempotency_key=None,
                )  # fmt: skip
                posted.append(status.id)

        await asyncio.gather(*(poster(w) for w in range(args.concurrency)))
        elapsed = time.perf_counter() - started
        await store.db.execute("VACUUM ANALYZE")
        after = await table_sizes(store)
        db_after = int(await store.db.fetchval("SELECT pg_database_size(current_database())"))
        n = len(posted)
        print(f"{n:,} statuses by {args.accounts} accounts following {args.follows} each,"
              f" ~{args.chars} characters; posted in {elapsed:.0f} s ({n / elapsed:,.0f}/s,"
              f" one process, load average {os.getloadavg()[0]:.1f})")  # fmt: skip
        print(f"{'table':<28} {'rows/status':>12} {'bytes/row':>10} {'bytes/status':>13}")
        total = 0
        for name in sorted(after, key=lambda t: after[t][1] - before.get(t, (0, 0))[1],
                           reverse=True):  # fmt: skip
            rows = after[name][0] - before.get(name, (0, 0))[0]
            grown = after[name][1] - before.get(name, (0, 0))[1]
            if grown <= 0 or rows <= 0:
                continue
            total += grown
            print(f"{name:<28} {rows / n:>12.2f} {grown / rows:>10,.0f} {grown / n:>13,.0f}")
        print(f"tables that grew, together: {total / n:,.0f} bytes per status"
              f" → {total / n * 1e6 / 2**30:.2f} GiB per million statuses")
        print(f"database size grew {(db_after - db_before) / n:,.0f} bytes per status"
              f" → {(db_after - db_before) / n * 1e6 / 2**30:.2f} GiB per million statuses")
    finally:
        await store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--statuses", type=int, default=20000)
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--follows", type=int, default=20)
    parser.add_argument("--chars", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "FEDINODE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
    )
    asyncio.run(main(parser.parse_args()))
