"""What the protocol layer needs to know, built by the application from its config."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FederationSettings:
    domain: str  # public host, may carry :port
    scheme: str = "https"  # "http" only for loopback testing
    title: str = "fedinode"
    software_version: str = "0.1.0"
    allow_private_addresses: bool = False
    ca_file: str = ""
    authorized_fetch: bool = False
    signature_max_skew_seconds: int = 3600
    delivery_max_days: int = 7
    delivery_concurrency: int = 32
    inbox_workers: int = 2
    fetch_timeout_seconds: float = 10.0
    max_fetch_bytes: int = 1_048_576
    max_inbox_bytes: int = 1_048_576
    reply_fetch_depth: int = 5
    actor_refresh_hours: int = 24
    first_contact: str = "accept"  # accept | quarantine (hold a never-seen host's activities)
    quarantine_hours: int = 72  # a held host is decided by itself after this; 0 = never
    quarantine_expiry: str = "release"  # release | reject, after quarantine_hours

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.domain}"
