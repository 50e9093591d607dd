"""Storage's own exceptions; the HTTP layer maps them to responses."""


class StorageError(Exception):
    """Base class."""


class NotFound(StorageError):
    """The row asked for does not exist."""


class Conflict(StorageError):
    """A unique value (username, email, uri) is taken."""


class InviteUnusable(StorageError):
    """An invite that is used up, expired or revoked."""


class Tombstoned(StorageError):
    """The object of this URI was deleted: it is not stored again."""
