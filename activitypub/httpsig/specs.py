"""The double-knock's memory: which HTTP signature spec to sign with first for each peer.

Pure bookkeeping (no I/O); ``activitypub.fetch`` does the knocking.
"""

from __future__ import annotations

from activitypub.httpsig.common import CAVAGE, RFC9421

# Answers after which a signed request is sent again signed with the other spec.
KNOCK_AGAIN = frozenset({400, 401})


class SignatureSpecs:
    """Which HTTP signature spec to try first with each peer (``host[:port]``), in memory.

    The double-knock: a signed request refused with 400/401 is sent again signed with the
    other spec, and the spec that was then accepted is remembered for the peer. Unknown
    peers get draft-cavage first: every fediverse server takes it, and a server that
    answers 202 before it verifies (and then drops what it cannot verify) would silently
    lose an RFC 9421 delivery. A peer is known to accept RFC 9421 once it took a retry
    signed that way, or once it signed a request to us that way.
    """

    def __init__(self, default: str = CAVAGE, limit: int = 10_000) -> None:
        self.default = default
        self.limit = limit
        self._specs: dict[str, str] = {}  # only peers whose spec differs from the default

    def first(self, peer: str) -> str:
        return self._specs.get(peer, self.default)

    def remember(self, peer: str, spec: str) -> None:
        if spec == self.default:
            self._specs.pop(peer, None)
            return
        if peer not in self._specs and len(self._specs) >= self.limit:
            self._specs.pop(next(iter(self._specs)))  # the oldest entry
        self._specs[peer] = spec

    @staticmethod
    def other(spec: str) -> str:
        return CAVAGE if spec == RFC9421 else RFC9421
