"""The rules every status read applies, as SQL fragments over a status row ``s`` with the
viewer as ``$1`` (and now as ``$2`` where mutes are checked); and tag name normalisation."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any


def normalize_tag(name: str) -> str:
    """The stored form of a tag key: NFC, case-folded, no '#'.

    Callers with user text pass the key of ``policy.text.tag_key`` (which folds Arabic and
    Persian letters, tatweel, digits and accents too, and which this leaves unchanged); a bare
    name gets only this much."""
    return unicodedata.normalize("NFC", name.lstrip("#")).casefold()


# Public and hashtag timelines leave out accounts an admin silenced or suspended (Mastodon's
# TagFeed is a PublicFeed).
AUTHOR_NOT_LIMITED = (
    "NOT EXISTS (SELECT 1 FROM accounts pa WHERE pa.id = s.account_id"
    " AND (pa.silenced OR pa.suspended))"
)


def visible_to(alias: str) -> str:
    """Whether ``$1`` (the viewer, or -1 for anonymous) may see the status row ``alias``."""
    s = alias
    return (
        f"({s}.visibility IN ('public', 'unlisted')"
        f" OR {s}.account_id = $1"
        f" OR ({s}.visibility = 'private' AND EXISTS (SELECT 1 FROM follows f"
        f"     WHERE f.account_id = $1 AND f.target_account_id = {s}.account_id))"
        f" OR EXISTS (SELECT 1 FROM mentions mv WHERE mv.status_id = {s}.id AND mv.account_id = $1))"
    )


def not_blocked(alias: str) -> str:
    """No block either way between ``$1`` and the author of the status row ``alias``."""
    s = alias
    return (
        f"NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.account_id = $1 AND b.target_account_id = {s}.account_id)"
        f" OR (b.account_id = {s}.account_id AND b.target_account_id = $1))"
    )


VISIBLE_TO = visible_to("s")
NOT_BLOCKED = not_blocked("s")
NOT_MUTED = "NOT EXISTS (SELECT 1 FROM mutes mu WHERE mu.account_id = $1 AND mu.target_account_id = s.account_id AND (mu.expires_at IS NULL OR mu.expires_at > $2))"

# The same two rules as the home timeline checks them on every row it reads: each probe
# per row is behind a probe of the viewer's own rows, done once per statement (most viewers
# mute and block no one, and are blocked by no one), so a row costs no lookup of its own.
GUARDED_NOT_MUTED = (
    "NOT (EXISTS (SELECT 1 FROM mutes gm WHERE gm.account_id = $1)"
    " AND EXISTS (SELECT 1 FROM mutes mu WHERE mu.account_id = $1"
    " AND mu.target_account_id = s.account_id AND (mu.expires_at IS NULL OR mu.expires_at > $2)))"
)
GUARDED_NOT_BLOCKED = (
    "NOT (EXISTS (SELECT 1 FROM blocks gb WHERE gb.account_id = $1)"
    " AND EXISTS (SELECT 1 FROM blocks b WHERE b.account_id = $1"
    " AND b.target_account_id = s.account_id)"
    " OR EXISTS (SELECT 1 FROM blocks gbt WHERE gbt.target_account_id = $1)"
    " AND EXISTS (SELECT 1 FROM blocks bt WHERE bt.account_id = s.account_id"
    " AND bt.target_account_id = $1))"
)


def guarded_domain_not_blocked(account_id: str) -> str:
    """The account ``account_id`` (an SQL expression) is not of a domain the viewer (``$1``)
    blocks (``account_domain_blocks``, a user's own). Behind a probe of the viewer's rows,
    once per statement: a viewer who blocks no domain (most) pays no probe per row."""
    return (
        "NOT (EXISTS (SELECT 1 FROM account_domain_blocks gd WHERE gd.account_id = $1)"
        " AND EXISTS (SELECT 1 FROM accounts da JOIN account_domain_blocks db"
        f" ON db.domain = da.domain WHERE da.id = {account_id} AND db.account_id = $1))"
    )


GUARDED_NOT_DOMAIN_BLOCKED = guarded_domain_not_blocked("s.account_id")

# For the home timeline: public statuses carrying a tag the viewer ($1) follows.
FOLLOWED_TAG_CLAUSE = (
    "(s.visibility = 'public' AND s.reblog_of_id IS NULL AND EXISTS (SELECT 1 FROM status_tags fst"
    " JOIN followed_tags fft ON fft.tag_id = fst.tag_id WHERE fst.status_id = s.id AND fft.account_id = $1))"
)

# The home timeline of $1 (now: $2), for the status row ``s``: its own statuses, those of
# accounts it follows (their reblogs only where the follow shows reblogs) and public ones with
# a tag it follows (a mention of it by anyone else is a notification, as on Mastodon, not a
# home timeline entry; nor is one with a followed tag by an author of a domain it blocks:
# followed authors there stay, as Mastodon keeps the follows and their posts, and a reblog of
# a status from there is not ``shown``, ``storage.timelines``); visibility, blocks and mutes
# applied. This is the
# authority: ``home_feed`` is only the index the page is read through. "Followed" is one
# index probe per candidate row: ``IN (SELECT … FROM follows …)`` built a set of all the
# viewer's follows for every page (SQLite an index, PostgreSQL a hash: 500 rows for a page
# of 20).
HOME_RULE = (
    "(s.account_id = $1"
    " OR EXISTS (SELECT 1 FROM follows fo WHERE fo.account_id = $1"
    " AND fo.target_account_id = s.account_id)"
    f" OR ({FOLLOWED_TAG_CLAUSE} AND {GUARDED_NOT_DOMAIN_BLOCKED}))"
    f" AND {VISIBLE_TO} AND {GUARDED_NOT_MUTED} AND {GUARDED_NOT_BLOCKED}"
    " AND (s.reblog_of_id IS NULL OR s.account_id = $1 OR EXISTS (SELECT 1 FROM follows fr"
    " WHERE fr.account_id = $1 AND fr.target_account_id = s.account_id AND fr.show_reblogs))"
)


def domains_excluded(domains: Sequence[str], args: list[Any]) -> str:
    """A condition leaving out statuses by accounts of the given domains (exact names)."""
    if not domains:
        return ""
    marks = ", ".join(f"${len(args) + i}" for i in range(1, len(domains) + 1))
    args.extend(domains)
    return (
        " AND NOT EXISTS (SELECT 1 FROM accounts xa WHERE xa.id = s.account_id"
        f" AND xa.domain IN ({marks}))"
    )
