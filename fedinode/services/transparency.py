"""What an instance tells everyone about its moderation: the list of moderated servers with
their public comments (Mastodon's ``/api/v1/instance/domain_blocks`` and its /about page),
shown to whom ``[instance] show_domain_blocks`` and ``show_domain_blocks_rationale`` say."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from fedinode.config import InstanceConfig
from policy.settings import LIMITING_BLOCK_FLAGS


@dataclass(frozen=True, slots=True)
class ModeratedServer:
    domain: str  # obfuscated where the admin asked
    digest: str  # SHA-256 of the real domain
    severity: str
    comment: str | None  # None: no public comment, or comments are not shown to this viewer


def shown(setting: str, signed_in: bool) -> bool:
    """Mastodon's show_domain_blocks / show_domain_blocks_rationale: all, users or disabled."""
    return setting == "all" or (setting == "users" and signed_in)


def needs_viewer(instance: InstanceConfig) -> bool:
    """Whether what is shown depends on the viewer being signed in."""
    return "users" in (instance.show_domain_blocks, instance.show_domain_blocks_rationale)


def moderated_servers(
    instance: InstanceConfig, described: Sequence[Mapping[str, object]], *, signed_in: bool
) -> list[ModeratedServer] | None:
    """The moderated servers this viewer may see (None: the list is not shown to them),
    from the ``domain_blocks`` of ``Pipeline.describe()`` (already obfuscated). A noop
    block without any limiting flag limits nothing and is left out."""
    if not shown(instance.show_domain_blocks, signed_in):
        return None
    with_comments = shown(instance.show_domain_blocks_rationale, signed_in)
    out: list[ModeratedServer] = []
    for block in described:
        limits = block.get("severity") != "noop" or any(
            block.get(name) for name in LIMITING_BLOCK_FLAGS
        )
        if not limits:
            continue
        comment = block.get("comment")
        out.append(
            ModeratedServer(
                domain=str(block.get("domain", "")),
                digest=str(block.get("digest", "")),
                severity=str(block.get("severity", "")),
                comment=comment if with_comments and isinstance(comment, str) and comment else None,
            )
        )
    return out
