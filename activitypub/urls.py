"""Where our own objects live: every URL this instance mints comes from here."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Urls:
    base: str  # scheme://domain, no trailing slash

    def actor(self, username: str) -> str:
        return f"{self.base}/users/{username}"

    def key_id(self, username: str) -> str:
        return f"{self.actor(username)}#main-key"

    def inbox(self, username: str) -> str:
        return f"{self.actor(username)}/inbox"

    def outbox(self, username: str) -> str:
        return f"{self.actor(username)}/outbox"

    def followers(self, username: str) -> str:
        return f"{self.actor(username)}/followers"

    def following(self, username: str) -> str:
        return f"{self.actor(username)}/following"

    def featured(self, username: str) -> str:
        return f"{self.actor(username)}/collections/featured"

    def featured_tags(self, username: str) -> str:
        return f"{self.actor(username)}/collections/tags"

    @property
    def shared_inbox(self) -> str:
        return f"{self.base}/inbox"

    @property
    def instance_actor(self) -> str:
        return f"{self.base}/actor"

    def status(self, username: str, status_id: int | str) -> str:
        return f"{self.actor(username)}/statuses/{status_id}"

    def status_template(self, username: str) -> str:
        """A ``str.format`` template with ``{id}`` for StatusStore.create."""
        return self.actor(username).replace("{", "{{").replace("}", "}}") + "/statuses/{id}"

    def activity(self, username: str, ident: int | str) -> str:
        return f"{self.actor(username)}/activities/{ident}"

    def profile_page(self, username: str) -> str:
        return f"{self.base}/@{username}"

    def status_page(self, username: str, status_id: int | str) -> str:
        return f"{self.base}/@{username}/{status_id}"

    def media(self, path: str) -> str:
        return f"{self.base}/media/{path}"

    def tag(self, name: str) -> str:
        return f"{self.base}/tags/{name}"
