"""Version strings: our own, and the Mastodon API level apps read from /api/v1/instance."""

from importlib.metadata import PackageNotFoundError, version

try:
    FEDINODE_VERSION = version("fedinode")
except PackageNotFoundError:  # running from a source tree without installation
    FEDINODE_VERSION = "0.1.0"

MASTODON_API_VERSION = "4.3.0"
COMPAT_VERSION = f"{MASTODON_API_VERSION} (compatible; fedinode {FEDINODE_VERSION})"
