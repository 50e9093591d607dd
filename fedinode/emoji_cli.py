"""``fedinode emoji add|list|remove``: this instance's custom emojis from the command line."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from fedinode.config import Config
from fedinode.errors import ApiError
from fedinode.services import custom_emojis as svc
from storage.store import Store


def add_commands(sub: Any, parser_class: type[argparse.ArgumentParser]) -> None:
    emoji = sub.add_parser("emoji", help="manage this instance's custom emojis")
    emoji_sub = emoji.add_subparsers(dest="emoji_command", required=True, parser_class=parser_class)
    add = emoji_sub.add_parser("add", help="upload an image as :SHORTCODE:")
    add.add_argument("shortcode")
    add.add_argument("file", type=Path)
    add.add_argument("--category", default="")
    emoji_sub.add_parser("list", help="list this instance's custom emojis")
    remove = emoji_sub.add_parser("remove", help="delete a custom emoji and its image")
    remove.add_argument("shortcode")


async def _add(config: Config, store: Store, args: argparse.Namespace) -> int:
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        raise _Usage(f"cannot read {args.file}: {exc.strerror}") from None
    try:
        emoji = await svc.add_local_emoji(store, config, args.shortcode, data, args.category)
    except ApiError as exc:
        raise _Usage(exc.message) from None
    print(f":{emoji.shortcode}: added ({emoji.content_type}, {emoji.size} bytes)")
    return 0


async def _list(store: Store) -> int:
    for emoji in await store.custom_emojis.listed(local_only=True):
        state = " (disabled)" if emoji.disabled else ""
        category = f" [{emoji.category}]" if emoji.category else ""
        print(f":{emoji.shortcode}:{category} {emoji.file_path}{state}")
    return 0


async def _remove(config: Config, store: Store, args: argparse.Namespace) -> int:
    code = args.shortcode.strip(":")
    emoji = await store.custom_emojis.local_by_shortcode(code)
    if emoji is None:
        raise _Usage(f"no custom emoji :{code}:")
    await svc.remove_local_emoji(store, config, emoji.id)
    print(f":{code}: removed")
    return 0


class _Usage(Exception):
    pass


async def _dispatch(config: Config, args: argparse.Namespace) -> int:
    store = await Store.open(config.database.url)
    try:
        if args.emoji_command == "add":
            return await _add(config, store, args)
        if args.emoji_command == "list":
            return await _list(store)
        return await _remove(config, store, args)
    finally:
        await store.close()


def run(
    config: Config,
    args: argparse.Namespace,
    runner: Callable[[Awaitable[int]], int],
    usage_error: Callable[[str], Exception],
) -> int:
    try:
        return runner(_dispatch(config, args))
    except _Usage as exc:
        raise usage_error(str(exc)) from None
