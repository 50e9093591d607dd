"""Configuration: a TOML file plus FEDINODE_<SECTION>__<KEY> overrides → frozen dataclasses."""

from __future__ import annotations

import dataclasses
import os
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policy.errors import PolicyConfigError
from policy.settings import PolicySettings, settings_from_mapping


class ConfigError(Exception):
    """A configuration problem; ``str()`` is one line naming the offending key."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key


@dataclass(frozen=True, slots=True)
class InstanceRule:
    """One ``[[instance.rules]]`` entry: Mastodon's Rule (text, and an optional hint)."""

    text: str
    hint: str = ""


@dataclass(frozen=True, slots=True)
class InstanceConfig:
    domain: str = ""  # "": a local instance, named after [server] host:port (Config.domain)
    title: str = "fedinode"
    description: str = "A fedinode instance"
    contact_email: str = ""
    # open | approval | invite | closed. A boolean (older files) reads as open/closed, and
    # ``approval_required = true`` with open as approval; afterwards ``approval_required``
    # is true exactly when the mode is approval.
    registrations: str = "closed"
    approval_required: bool = False
    languages: tuple[str, ...] = ("en",)
    # ``[[instance.rules]]`` tables ({text, hint}); plain strings (the older form) read as text.
    rules: tuple[InstanceRule, ...] = ()
    # Who may read /api/v1/instance/domain_blocks (Mastodon's show_domain_blocks) and its
    # comments (show_domain_blocks_rationale): "all", "users" (signed in) or "disabled".
    show_domain_blocks: str = "all"
    show_domain_blocks_rationale: str = "all"
    max_status_chars: int = 5000
    max_poll_options: int = 4
    max_media_attachments: int = 4
    robots: str = "allow"  # robots.txt: "allow" public pages to crawlers, or "deny" them all

    def __post_init__(self) -> None:
        rules = tuple(r if isinstance(r, InstanceRule) else InstanceRule(str(r)) for r in self.rules)
        object.__setattr__(self, "rules", rules)
        mode = registrations_mode(self.registrations, self.approval_required)
        object.__setattr__(self, "registrations", mode)
        object.__setattr__(self, "approval_required", mode == "approval")

    @property
    def registrations_enabled(self) -> bool:
        """Anyone may sign up (perhaps to wait for approval): what Mastodon's
        ``registrations`` and NodeInfo's ``openRegistrations`` say."""
        return self.registrations in ("open", "approval")


REGISTRATION_MODES = ("open", "approval", "invite", "closed")


def registrations_mode(value: object, approval_required: bool = False) -> str:
    """``[instance] registrations`` as one of REGISTRATION_MODES; booleans (the older form)
    read as open (approval with ``approval_required``) or closed. ValueError otherwise."""
    if isinstance(value, bool):
        value = "open" if value else "closed"
    if not isinstance(value, str) or value not in REGISTRATION_MODES:
        raise ValueError(f"must be one of {', '.join(REGISTRATION_MODES)}, got {value!r}")
    if value == "open" and approval_required:
        return "approval"
    return value


@dataclass(frozen=True, slots=True)
class EmailConfig:
    """``[email]``: outgoing mail (sign-up confirmation, password reset, approval notices).
    With no ``host`` no mail is sent and new accounts need no e-mail confirmation."""

    host: str = ""
    port: int = 25
    tls: str = "none"  # none | starttls | tls (implicit TLS, usually port 465)
    username: str = ""
    password: str = ""
    # "From:" of every mail; "": noreply@<instance domain without port>
    from_address: str = ""
    timeout_seconds: float = 30.0
    max_attempts: int = 8  # a failing server: tries (with backoff) before a mail is dropped

    @property
    def enabled(self) -> bool:
        return bool(self.host)


@dataclass(frozen=True, slots=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 0  # processes serving this port (SO_REUSEPORT); 0 = one per core
    max_body_bytes: int = 1_048_576
    max_media_bytes: int = 16_777_216
    access_log: bool = True
    trusted_proxies: tuple[str, ...] = ("127.0.0.1", "::1")


@dataclass(frozen=True, slots=True)
class RateLimitsConfig:
    """``[rate_limits]``: each limit is ``"N/period"`` in the notation of the ``limits``
    library (``"25/5minutes"``, ``"300 per 5 minutes"``, several joined by ``;``); ``"0"``
    turns one off, ``enabled = false`` all of them. Defaults follow Mastodon's for logins,
sign-ups and writes; reads and the inbox are unlimited unless set."""

    enabled: bool = True
    # "database": counters in the database, one count for every process serving it;
    # redis://host:6379/0 the same in Redis; memory:// in each process (per process).
    storage: str = "database"
    strategy: str = "fixed-window"
    # Client addresses or networks never limited. Loopback, as Mastodon safelists it: tools
    # on the machine itself; clients behind a local proxy are still limited by their own
    # address (X-Forwarded-For, server.trusted_proxies).
    exempt: tuple[str, ...] = ("127.0.0.1", "::1")
    oauth_token: str = "25/5minutes"  # per IP: POST /oauth/token (password logins)
    oauth_authorize: str = "25/5minutes"  # per IP: POST /oauth/authorize (the login form)
    apps: str = "25/5minutes"  # per IP: POST /api/v1/apps
    sign_up: str = "5/30minutes"  # per IP: POST /api/v1/accounts and /auth/sign_up
    # Reads are not limited by default (Mastodon: 300/5minutes per address and per token):
    # timelines are what apps and load balancers poll hardest, and one process serves
    # thousands of them a second. Set these to limit them.
    api_unauthenticated: str = "0"  # per IP: /api/* without a token
    api_per_token: str = "0"  # per token: /api/* with a token
    api_per_account: str = "0"  # per account, all its tokens
    writes_per_account: str = "300/5minutes"  # per account: POST/PUT/PATCH/DELETE on /api/*
    media: str = "30/30minutes"  # per account: media uploads
    inbox: str = "0"  # per peer host (the signature's keyId host): inbox POSTs


RATE_LIMIT_KEYS = (
    "oauth_token", "oauth_authorize", "apps", "sign_up", "api_unauthenticated",
    "api_per_token", "api_per_account", "writes_per_account", "media", "inbox",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class DatabaseConfig:
    url: str = "sqlite:///fedinode-data/fedinode.sqlite3"
    pool_size: int = 10


@dataclass(frozen=True, slots=True)
class FederationConfig:
    mode: str = "open"
    scheme: str = ""  # "": https with a domain, http for a local instance (Config.scheme)
    allow_private_addresses: bool = False
    ca_file: str = ""
    authorized_fetch: bool = False
    signature_max_skew_seconds: int = 3600
    delivery_max_days: int = 7
    delivery_concurrency: int = 32
    inbox_workers: int = 2
    fetch_timeout_seconds: float = 10.0
    max_fetch_bytes: int = 1_048_576
    reply_fetch_depth: int = 5
    actor_refresh_hours: int = 24
    # accept | quarantine: hold the activities of a host never seen before until an admin
    # releases or rejects it (docs/policy.md, "First-contact quarantine").
    first_contact: str = "accept"
    quarantine_hours: int = 72  # a held host is decided by itself after this; 0 = never
    quarantine_expiry: str = "release"  # release | reject: what happens after quarantine_hours


@dataclass(frozen=True, slots=True)
class QueueConfig:
    """``[queue]``: the inbox and delivery queues' leases. A worker leases the rows it
    takes; a process that dies holding some gives them back when it starts again (same
    ``worker_name``), or they are taken by any worker when the lease runs out."""

    inbox_lease_seconds: int = 60
    delivery_lease_seconds: int = 300
    worker_name: str = ""  # "": <host>#slot<N> (its id slot); unique per running process


LEASE_RANGE_SECONDS = (5, 86_400)


AUDIO_FORMATS = ("mp3", "opus")


@dataclass(frozen=True, slots=True)
class S3Config:
    """``[media.s3]`` (or the same keys flat in ``[media]``): an S3-compatible bucket."""

    endpoint: str = ""  # https://s3.example.ir ; "" = AWS itself
    bucket: str = ""
    region: str = "us-east-1"
    access_key: str = ""
    secret_key: str = ""
    prefix: str = ""  # keys are written under this folder of the bucket ("" = its root)


S3_KEYS = ("endpoint", "bucket", "region", "access_key", "secret_key", "prefix")


@dataclass(frozen=True, slots=True)
class MediaConfig:
    backend: str = "local"  # local (``directory``) | s3 (``[media.s3]``)
    directory: str = "fedinode-data/media"
    # s3: "" = files are streamed through our /media/ route; a URL (a public bucket or a CDN
    # in front of it) = /media/ answers with a redirect there.
    public_url: str = ""
    s3: S3Config = field(default_factory=S3Config)
    max_image_pixels: int = 16_777_216
    thumbnail_size: int = 400
    proxy_remote: bool = False
    # Remote media cache (docs/configuration.md): remote avatars, headers and attachments
    # are fetched once by the worker, re-encoded like uploads and served from here.
    cache_remote: bool = True
    remote_cache_bytes: int = 0  # budget for cached remote files; 0 = no budget
    remote_image_max_bytes: int = 16_777_216  # a larger remote image keeps its remote URL
    remote_video_max_bytes: int = 41_943_040  # video/audio cached as-is up to this size
    remote_video_types: tuple[str, ...] = (
        "video/mp4", "video/webm", "audio/mpeg", "audio/ogg", "audio/mp4", "audio/webm",
    )  # fmt: skip
    remote_fetch_timeout_seconds: float = 30.0
    remote_fetch_attempts: int = 4  # tries before a failing remote file keeps its remote URL
    # Video, audio and animated GIF uploads (docs/configuration.md): probed and transcoded
    # by ffmpeg run as a subprocess, with time and size limits and no network access.
    ffmpeg: str = "ffmpeg"  # program path (PATH is searched)
    ffprobe: str = "ffprobe"
    video_max_bytes: int = 41_943_040  # an uploaded video or audio file
    video_max_seconds: int = 600  # longer video or audio is refused
    video_max_dimension: int = 1920  # transcoded video fits in this many pixels a side
    video_max_bitrate_kbps: int = 2500
    video_max_fps: int = 60
    audio_format: str = "mp3"  # mp3 | opus (Ogg)
    transcode_timeout_seconds: float = 300.0  # one ffmpeg run; slower is a failure
    transcode_threads: int = 2
    emoji_max_bytes: int = 262_144  # an admin's custom emoji image (Mastodon's limit)
    # Link preview cards (docs/configuration.md): the first link of a status, fetched by the worker.
    preview_cards: bool = True
    card_page_max_bytes: int = 1_048_576  # HTML read of a linked page; a larger page has no card
    card_fetch_timeout_seconds: float = 10.0


@dataclass(frozen=True, slots=True)
class PushConfig:
    """``[push]``: Web Push to phones (docs/push.md)."""

    contact: str = ""  # VAPID "sub": mailto:/https: a push service may write to; "": contact_email
    timeout_seconds: float = 10.0  # per push, connect to answer
    max_attempts: int = 8  # a push service that keeps failing: tries before giving up
    ttl_seconds: int = 172_800  # how long a push service holds a push for an offline phone
    # Push hosts (exact names) that may be on private addresses, e.g. a UnifiedPush server
    # on the home network, without opening federation to private peers.
    private_hosts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PasswordsConfig:
    # scrypt's work factors for new password hashes; a login under older ones stores a new hash.
    scrypt_n: int = 16384
    scrypt_r: int = 8
    scrypt_p: int = 1


@dataclass(frozen=True, slots=True)
class MetricsConfig:
    """``[metrics]``: who may read ``/metrics``. Loopback only by default; the client
    address is the one behind ``server.trusted_proxies``, so a request through a local
    reverse proxy counts as the outside client it came from."""

    enabled: bool = True
    allow: tuple[str, ...] = ("127.0.0.1", "::1")  # addresses or CIDR networks
    token: str = ""  # when set, "Authorization: Bearer <token>" is let in from anywhere
    cache_seconds: float = 5.0  # database-derived gauges are read at most this often


@dataclass(frozen=True, slots=True)
class EventsConfig:
    """``[events]``: how events (streaming, cache invalidation, policy reloads) cross
    processes. ``url = ""``: through the database (LISTEN/NOTIFY on PostgreSQL, datagrams
    on SQLite); ``redis://…``: Redis pub/sub."""

    url: str = ""
    prefix: str = ""  # channel prefix in Redis; "" = "fedinode:<instance domain>:"


@dataclass(frozen=True, slots=True)
class LoggingConfig:
    """``[logging]``: ``format = "json"`` writes one JSON object per line (time, level,
    logger, message, and the request's fields on access-log lines)."""

    format: str = "text"  # text | json


@dataclass(frozen=True, slots=True)
class Config:
    instance: InstanceConfig = field(default_factory=InstanceConfig)
    server: ServerConfig = field(default_factory=ServerConfig)
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    federation: FederationConfig = field(default_factory=FederationConfig)
    media: MediaConfig = field(default_factory=MediaConfig)
    rate_limits: RateLimitsConfig = field(default_factory=RateLimitsConfig)
    push: PushConfig = field(default_factory=PushConfig)
    passwords: PasswordsConfig = field(default_factory=PasswordsConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    events: EventsConfig = field(default_factory=EventsConfig)
    queue: QueueConfig = field(default_factory=QueueConfig)
    email: EmailConfig = field(default_factory=EmailConfig)
    policy: PolicySettings = field(default_factory=lambda: settings_from_mapping("open", {}))
    source: str = ""  # the file it came from, '' when defaults only

    @property
    def local(self) -> bool:
        """No ``[instance] domain``: a local instance whose URLs point where it is served."""
        return not self.instance.domain

    @property
    def scheme(self) -> str:
        """``[federation] scheme`` if set; else https with a domain, http without one."""
        return self.federation.scheme or ("http" if self.local else "https")

    @property
    def domain(self) -> str:
        """The domain in handles and URLs: ``[instance] domain``, or ``[server] host:port``."""
        return self.instance.domain or served_authority(
            self.server.host, self.server.port, self.scheme
        )

    @property
    def events_prefix(self) -> str:
        """Redis channel prefix: ``[events] prefix``, or one named after the instance."""
        return self.events.prefix or f"fedinode:{self.domain}:"

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.domain}"

    def resolved(self) -> Config:
        """This configuration with the effective domain and scheme written into
        ``instance.domain`` and ``federation.scheme`` (what the application runs on)."""
        if self.instance.domain and self.federation.scheme:
            return self
        return dataclasses.replace(
            self,
            instance=dataclasses.replace(self.instance, domain=self.domain),
            federation=dataclasses.replace(self.federation, scheme=self.scheme),
        )

    def with_policy(self, policy: PolicySettings) -> Config:
        return dataclasses.replace(self, policy=policy)


# Listening on every address names no host a browser could use; the instance is then
# reachable (and named) as localhost on this machine.
_WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::", "[::]", "*"})


def served_authority(host: str, port: int, scheme: str) -> str:
    """``host:port`` as a URL authority for a local instance: a wildcard listen address
    becomes ``localhost``, an IPv6 address gets brackets, the scheme's default port is
    left out."""
    name = host.strip().lower()
    if name in _WILDCARD_HOSTS:
        name = "localhost"
    elif ":" in name and not name.startswith("["):
        name = f"[{name}]"
    default_port = 80 if scheme == "http" else 443
    return name if port == default_port else f"{name}:{port}"


_SECTIONS: dict[str, type] = {
    "instance": InstanceConfig,
    "server": ServerConfig,
    "database": DatabaseConfig,
    "federation": FederationConfig,
    "media": MediaConfig,
    "rate_limits": RateLimitsConfig,
    "push": PushConfig,
    "passwords": PasswordsConfig,
    "metrics": MetricsConfig,
    "logging": LoggingConfig,
    "events": EventsConfig,
    "queue": QueueConfig,
    "email": EmailConfig,
}
_CHOICES = {
    ("federation", "mode"): ("open", "allowlist", "closed"),
    ("instance", "robots"): ("allow", "deny"),
    ("federation", "scheme"): ("https", "http", ""),
    ("rate_limits", "strategy"): ("fixed-window", "moving-window", "sliding-window-counter"),
    ("logging", "format"): ("text", "json"),
    ("email", "tls"): ("none", "starttls", "tls"),
    ("federation", "first_contact"): ("accept", "quarantine"),
    ("federation", "quarantine_expiry"): ("release", "reject"),
    ("instance", "show_domain_blocks"): ("all", "users", "disabled"),
    ("instance", "show_domain_blocks_rationale"): ("all", "users", "disabled"),
    ("media", "backend"): ("local", "s3"),
}


def _coerce(key: str, hint: Any, value: Any, *, from_env: bool) -> Any:
    origin = typing.get_origin(hint)
    if hint is bool:
        if from_env and isinstance(value, str):
            lowered = value.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ConfigError(key, f"expected a boolean, got {value!r}")
        if not isinstance(value, bool):
            raise ConfigError(key, f"expected a boolean, got {type(value).__name__}")
        return value
    if hint is int:
        if from_env and isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                raise ConfigError(key, f"expected an integer, got {value!r}") from None
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(key, f"expected an integer, got {type(value).__name__}")
        return value
    if hint is float:
        if from_env and isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                raise ConfigError(key, f"expected a number, got {value!r}") from None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(key, f"expected a number, got {type(value).__name__}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(key, f"expected a string, got {type(value).__name__}")
        return value
    if origin is tuple:
        if from_env and isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(key, "expected a list of strings")
        return tuple(value)
    raise ConfigError(key, "unsupported setting type")  # pragma: no cover - a programming error


def _build_section(name: str, cls: type, table: Mapping[str, Any], env_keys: set[str]) -> Any:
    if not isinstance(table, Mapping):
        raise ConfigError(name, "expected a table")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    if name == "media":
        table, s3 = _split_s3(table, env_keys)
        if s3 is not None:
            kwargs["s3"] = s3
    for key, value in table.items():
        dotted = f"{name}.{key}"
        if (name, key) == ("email", "from"):  # TOML's name for it; a Python keyword
            key, dotted = "from_address", "email.from"
        if key not in known:
            raise ConfigError(dotted, "unknown key")
        if (name, key) == ("instance", "registrations"):
            kwargs[key] = _registrations(dotted, value, from_env=key in env_keys)
            continue
        if (name, key) == ("instance", "rules"):
            kwargs[key] = _instance_rules(dotted, value, from_env=key in env_keys)
            continue
        coerced = _coerce(dotted, hints[key], value, from_env=key in env_keys)
        choices = _CHOICES.get((name, key))
        if choices and coerced not in choices:
            allowed = ", ".join(c or '"" (automatic)' for c in choices)
            raise ConfigError(dotted, f"must be one of {allowed}, got {coerced!r}")
        kwargs[key] = coerced
    section = cls(**kwargs)
    _check_section(name, section)
    return section


def _split_s3(
    table: Mapping[str, Any], env_keys: set[str]
) -> tuple[dict[str, Any], S3Config | None]:
    """``[media]`` minus its S3 settings, and those settings: a ``[media.s3]`` table, the
    same keys flat in ``[media]``, or ``FEDINODE_MEDIA__S3__<KEY>`` / ``FEDINODE_MEDIA__<KEY>``."""
    rest: dict[str, Any] = {}
    found: dict[str, Any] = {}
    from_env: set[str] = set()
    for key, value in table.items():
        if key == "s3":
            if not isinstance(value, Mapping):
                raise ConfigError("media.s3", "expected a table")
            for sub, sub_value in value.items():
                if sub not in S3_KEYS:
                    raise ConfigError(f"media.s3.{sub}", "unknown key")
                found[sub] = sub_value
            continue
        sub = key[len("s3__") :] if key.startswith("s3__") else key
        if sub in S3_KEYS:
            if key.startswith("s3__") or key in S3_KEYS:
                found[sub] = value
                if key in env_keys:
                    from_env.add(sub)
                continue
        if key.startswith("s3__"):
            raise ConfigError(f"media.s3.{sub}", "unknown key")
        rest[key] = value
    if not found:
        return rest, None
    values = {
        k: _coerce(f"media.s3.{k}", str, v, from_env=k in from_env) for k, v in found.items()
    }
    return rest, S3Config(**values)


def _registrations(key: str, value: Any, *, from_env: bool) -> str | bool:
    if from_env and isinstance(value, str):
        lowered = value.strip().lower()
        value = {"true": True, "false": False, "1": True, "0": False}.get(lowered, lowered)
    try:
        registrations_mode(value)
    except ValueError as exc:
        raise ConfigError(key, str(exc)) from None
    return typing.cast("str | bool", value)


def _instance_rules(key: str, value: Any, *, from_env: bool) -> tuple[InstanceRule, ...]:
    """``[[instance.rules]]`` tables with ``text`` (and ``hint``), or plain strings."""
    if from_env and isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, list):
        raise ConfigError(key, "expected an array of tables with text (and hint)")
    rules: list[InstanceRule] = []
    for index, item in enumerate(value):
        item_key = f"{key}[{index}]"
        if isinstance(item, str):
            item = {"text": item}
        if not isinstance(item, Mapping):
            raise ConfigError(item_key, "expected a table with text (and hint)")
        for name in item:
            if name not in ("text", "hint"):
                raise ConfigError(f"{item_key}.{name}", "unknown key (expected text or hint)")
        text, hint = item.get("text"), item.get("hint", "")
        if not isinstance(text, str) or not text.strip():
            raise ConfigError(f"{item_key}.text", "expected a non-empty string")
        if not isinstance(hint, str):
            raise ConfigError(f"{item_key}.hint", "expected a string")
        rules.append(InstanceRule(text=text.strip(), hint=hint.strip()))
    return tuple(rules)


def _check_section(name: str, section: Any) -> None:
    if name == "server":
        if not 0 < section.port < 65536:
            raise ConfigError("server.port", f"must be between 1 and 65535, got {section.port}")
        if section.max_body_bytes < 1024:
            raise ConfigError("server.max_body_bytes", "must be at least 1024")
        if not 0 <= section.workers <= 256:
            raise ConfigError("server.workers", f"must be between 0 and 256, got {section.workers}")
    if name == "instance":
        domain = section.domain  # "" (unset): a local instance, see Config.domain
        if domain and ("/" in domain or " " in domain or domain != domain.lower()):
            raise ConfigError(
                "instance.domain",
                f"must be a lowercase host (with an optional :port), got {domain!r}",
            )
    if name == "server":
        _check_networks("server.trusted_proxies", section.trusted_proxies)
    if name == "rate_limits":
        _check_rate_limits(section)
    if name == "metrics":
        _check_networks("metrics.allow", section.allow)
        if section.cache_seconds < 0:
            raise ConfigError("metrics.cache_seconds", "must not be negative")
    if name == "database":
        if not section.url.startswith(("sqlite:", "postgresql:", "postgres:")):
            raise ConfigError("database.url", "must start with sqlite:/// or postgresql://")
        if not 1 <= section.pool_size <= 1000:
            raise ConfigError(
                "database.pool_size", f"must be between 1 and 1000, got {section.pool_size}"
            )
    if name == "events" and section.url:
        if not section.url.startswith(("redis://", "rediss://", "unix://")):
            raise ConfigError("events.url", 'must be "" or start with redis://, rediss:// or unix://')
    if name == "passwords":
        _check_passwords(section)
    if name == "media":
        _check_media(section)
    if name == "queue":
        _check_queue(section)
    if name == "email":
        if not 0 < section.port < 65536:
            raise ConfigError("email.port", f"must be between 1 and 65535, got {section.port}")
        if section.from_address and "@" not in section.from_address:
            raise ConfigError("email.from", f"not an e-mail address: {section.from_address!r}")
        if section.max_attempts < 1:
            raise ConfigError("email.max_attempts", "must be at least 1")
    if name == "federation":
        if section.ca_file and not Path(section.ca_file).is_file():
            raise ConfigError("federation.ca_file", f"no such file: {section.ca_file}")
        if section.signature_max_skew_seconds <= 0:
            raise ConfigError("federation.signature_max_skew_seconds", "must be positive")
        if not 0 <= section.quarantine_hours <= 87_600:
            raise ConfigError("federation.quarantine_hours", "must be between 0 and 87600")


def _check_media(section: MediaConfig) -> None:
    if section.public_url and not _is_http_url(section.public_url):
        raise ConfigError("media.public_url", f"must be an http(s) URL, got {section.public_url!r}")
    s3 = section.s3
    if s3.endpoint and not _is_http_url(s3.endpoint):
        raise ConfigError("media.s3.endpoint", f"must be an http(s) URL, got {s3.endpoint!r}")
    if s3.prefix and (s3.prefix.startswith("/") or ".." in s3.prefix.split("/")):
        raise ConfigError("media.s3.prefix", f"must be a relative folder, got {s3.prefix!r}")
    if section.backend == "s3":
        if not s3.bucket:
            raise ConfigError("media.s3.bucket", 'is required when media.backend = "s3"')
        if not s3.region:
            raise ConfigError("media.s3.region", 'is required when media.backend = "s3"')
        if bool(s3.access_key) != bool(s3.secret_key):
            missing = "secret_key" if s3.access_key else "access_key"
            raise ConfigError(f"media.s3.{missing}", "access_key and secret_key go together")
    for key in ("remote_cache_bytes", "remote_image_max_bytes", "remote_video_max_bytes"):
        if getattr(section, key) < 0:
            raise ConfigError(f"media.{key}", "must not be negative")
    for key in ("emoji_max_bytes", "card_page_max_bytes"):
        if getattr(section, key) <= 0:
            raise ConfigError(f"media.{key}", "must be positive")
    if section.card_fetch_timeout_seconds <= 0:
        raise ConfigError("media.card_fetch_timeout_seconds", "must be positive")
    if section.remote_fetch_timeout_seconds <= 0:
        raise ConfigError("media.remote_fetch_timeout_seconds", "must be positive")
    if section.remote_fetch_attempts < 1:
        raise ConfigError("media.remote_fetch_attempts", "must be at least 1")
    for key in ("video_max_bytes", "video_max_seconds", "video_max_dimension",
                "video_max_bitrate_kbps", "video_max_fps", "transcode_threads"):  # fmt: skip
        if getattr(section, key) < 1:
            raise ConfigError(f"media.{key}", "must be at least 1")
    if section.video_max_dimension < 16:
        raise ConfigError("media.video_max_dimension", "must be at least 16")
    if section.transcode_timeout_seconds <= 0:
        raise ConfigError("media.transcode_timeout_seconds", "must be positive")
    if section.audio_format not in AUDIO_FORMATS:
        raise ConfigError("media.audio_format", f"must be one of {', '.join(AUDIO_FORMATS)}")
    for key in ("ffmpeg", "ffprobe"):
        if not getattr(section, key).strip():
            raise ConfigError(f"media.{key}", "must name a program")


def _is_http_url(value: str) -> bool:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _check_queue(section: QueueConfig) -> None:
    low, high = LEASE_RANGE_SECONDS
    for key in ("inbox_lease_seconds", "delivery_lease_seconds"):
        value = getattr(section, key)
        if not low <= value <= high:
            raise ConfigError(f"queue.{key}", f"must be between {low} and {high}, got {value}")
    name = section.worker_name
    if len(name) > 100 or not name.isprintable() or any(c.isspace() or c == "#" for c in name):
        raise ConfigError(
            "queue.worker_name",
            f"must be up to 100 characters with no spaces and no '#', got {name!r}",
        )


def _check_networks(key: str, values: tuple[str, ...]) -> None:
    import ipaddress

    for value in values:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise ConfigError(key, f"not an IP address or network: {value!r}") from None


def _check_passwords(section: PasswordsConfig) -> None:
    n, r, p = section.scrypt_n, section.scrypt_r, section.scrypt_p
    if n < 1024 or n & (n - 1):
        raise ConfigError("passwords.scrypt_n", f"must be a power of two of at least 1024, got {n}")
    if not 1 <= r <= 64:
        raise ConfigError("passwords.scrypt_r", f"must be between 1 and 64, got {r}")
    if not 1 <= p <= 16:
        raise ConfigError("passwords.scrypt_p", f"must be between 1 and 16, got {p}")
    if 128 * r * (n + p + 2) > 1 << 30:
        raise ConfigError("passwords.scrypt_n", "with scrypt_r, needs more than 1 GiB per hash")


def _check_rate_limits(section: RateLimitsConfig) -> None:
    from limits import parse_many

    for key in RATE_LIMIT_KEYS:
        value = getattr(section, key).strip()
        if value in ("", "0"):
            continue
        try:
            parse_many(value)
        except ValueError:
            raise ConfigError(
                f"rate_limits.{key}",
                f'expected a limit such as "25/5minutes" (or "0" for none), got {value!r}',
            ) from None
    if section.storage != "database" and not section.storage.startswith(
        ("memory://", "redis://", "rediss://", "redis+unix://")
    ):
        raise ConfigError(
            "rate_limits.storage",
            '"database", or an address starting with memory://, redis://, rediss:// or'
            " redis+unix://",
        )
    if section.storage == "database" and section.strategy == "moving-window":
        raise ConfigError(
            "rate_limits.strategy",
            'moving-window keeps every hit: with storage = "database" use fixed-window or'
            ' sliding-window-counter (or storage = "redis://…" for moving-window)',
        )
    _check_networks("rate_limits.exempt", section.exempt)


def env_overrides(environ: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """FEDINODE_<SECTION>__<KEY>=value → {section: {key: value}} (values still strings)."""
    out: dict[str, dict[str, Any]] = {}
    for name, value in environ.items():
        if not name.startswith("FEDINODE_") or "__" not in name:
            continue
        section, _, key = name[len("FEDINODE_") :].partition("__")
        if not section or not key:
            continue
        out.setdefault(section.lower(), {})[key.lower()] = value
    return out


def load_config(
    path: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None
) -> Config:
    """Read, merge and validate the configuration; raises ConfigError naming the key."""
    environ = os.environ if environ is None else environ
    raw: dict[str, Any] = {}
    source = ""
    if path:
        source = str(path)
        try:
            with open(path, "rb") as fh:
                raw = tomllib.load(fh)
        except FileNotFoundError:
            raise ConfigError("--config", f"no such file: {path}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError("--config", f"invalid TOML in {path}: {exc}") from None
    overrides = env_overrides(environ)
    for section in list(raw) + list(overrides):
        if section not in _SECTIONS and section != "policy":
            raise ConfigError(section, "unknown section")
    sections: dict[str, Any] = {}
    for name, cls in _SECTIONS.items():
        table = dict(raw.get(name, {})) if isinstance(raw.get(name, {}), Mapping) else raw[name]
        env = overrides.get(name, {})
        if isinstance(table, dict):
            table.update(env)
        sections[name] = _build_section(name, cls, table, set(env))
    policy_table = dict(raw.get("policy", {}))
    for key, value in overrides.get("policy", {}).items():
        if key in ("dry_run",):
            policy_table[key] = _coerce(f"policy.{key}", bool, value, from_env=True)
        elif key == "audit_retention_days":
            policy_table[key] = _coerce(f"policy.{key}", int, value, from_env=True)
        else:
            raise ConfigError(
                f"policy.{key}", "cannot be set from the environment (set it in the file)"
            )
    try:
        policy = settings_from_mapping(sections["federation"].mode, policy_table)
    except PolicyConfigError as exc:
        raise ConfigError(exc.key, exc.message) from None
    return Config(**sections, policy=policy, source=source)


def config_path_from(cli_value: str | None, environ: Mapping[str, str] | None = None) -> str | None:
    environ = os.environ if environ is None else environ
    return cli_value or environ.get("FEDINODE_CONFIG") or None
