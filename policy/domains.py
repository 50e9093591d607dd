"""Compiled domain matcher: exact hosts and "*.example.org" wildcards in O(labels)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Generic, TypeVar

T = TypeVar("T")


def split_port(host: str) -> tuple[str, str]:
    """("host", ":port") or ("host", ""); IPv6 literals in brackets keep their colons."""
    if host.endswith("]"):
        return host, ""
    name, sep, port = host.rpartition(":")
    if sep and port.isdigit():
        return name, ":" + port
    return host, ""


def normalize_host(host: str) -> str:
    """Lowercased ASCII (IDNA) host without trailing dot; keeps a :port."""
    host = host.strip().lower()
    name, port = split_port(host)
    name = name.rstrip(".")
    if not name.isascii():
        try:
            name = name.encode("idna").decode("ascii")
        except UnicodeError:
            pass  # not a valid IDN: matches only patterns spelled the same way
    return name + port


class DomainMatcher(Generic[T]):
    """Maps domain patterns to values; the most specific pattern matching a host wins.

    "*.example.org" matches example.org itself and every subdomain (as Mastodon does).
    A pattern with a port ("localhost:8081") matches only that port; one without matches
    every port. Patterns must already be normalised (see settings.normalize_domain).
    """

    __slots__ = ("_exact", "_wildcard")

    def __init__(self, entries: Iterable[tuple[str, T]] = ()) -> None:
        self._exact: dict[str, T] = {}
        self._wildcard: dict[str, T] = {}
        for pattern, value in entries:
            if pattern.startswith("*."):
                self._wildcard[pattern[2:]] = value
            else:
                self._exact[pattern] = value

    def __len__(self) -> int:
        return len(self._exact) + len(self._wildcard)

    def lookup(self, host: str) -> T | None:
        """The value of the most specific pattern matching host (a :port is ignored unless
        a pattern names it), or None."""
        if not host or not (self._exact or self._wildcard):
            return None  # most instances block nothing: every inbox POST asks twice
        if not host.isascii() or not host.islower() or host.endswith("."):
            host = normalize_host(host)
        name, port = split_port(host)
        exact, wildcard = self._exact, self._wildcard
        if port:
            found = exact.get(host)
            if found is not None:
                return found
        found = exact.get(name)
        if found is not None:
            return found
        suffix = name
        while True:
            if port:
                found = wildcard.get(suffix + port)
                if found is not None:
                    return found
            found = wildcard.get(suffix)
            if found is not None:
                return found
            dot = suffix.find(".")
            if dot < 0:
                return None
            suffix = suffix[dot + 1 :]
