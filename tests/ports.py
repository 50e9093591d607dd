"""Ports for the servers tests start: below the kernel's ephemeral range.

A port the kernel hands out for ``bind(("127.0.0.1", 0))`` comes from the ephemeral range,
from which every outgoing connection (to PostgreSQL, to a peer) also takes its local port:
between the pick and the server's own bind another test's connection could take it
("Address already in use"). Ports picked below that range are taken only by a bind."""

from __future__ import annotations

import random
import socket
from pathlib import Path

_LOW, _HIGH = 20000, 32767  # below the usual ephemeral range (32768–60999 on Linux)


def _ephemeral_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now, outside the ephemeral range."""
    high = min(_HIGH, _ephemeral_start() - 1)
    for _ in range(200):
        port = random.randint(_LOW, high)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as sock:  # a crowded machine: let the kernel choose
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
