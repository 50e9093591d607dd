"""Reading a rule's options with errors that name the exact key."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from policy.errors import PolicyConfigError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def _type_name(value: Any) -> str:
    return type(value).__name__


class OptionReader:
    """Typed access to a rule's raw options; `finish()` rejects keys nobody asked for."""

    def __init__(self, options: Mapping[str, Any], key: str) -> None:
        self._options = options
        self._key = key
        self._seen: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self._key}.{name}"

    def error(self, name: str, message: str) -> PolicyConfigError:
        return PolicyConfigError(self.key(name), message)

    def has(self, name: str) -> bool:
        self._seen.add(name)
        return name in self._options

    def raw(self, name: str) -> Any:
        self._seen.add(name)
        if name not in self._options:
            raise self.error(name, "required key is missing")
        return self._options[name]

    def string(self, name: str, default: str | None = None) -> str:
        if default is not None and not self.has(name):
            return default
        value = self.raw(name)
        if not isinstance(value, str):
            raise self.error(name, f"expected a string, got {_type_name(value)}")
        return value

    def strings(
        self, name: str, *, required: bool = False, allow_single: bool = False
    ) -> tuple[str, ...]:
        if not required and not self.has(name):
            return ()
        value = self.raw(name)
        if allow_single and isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise self.error(name, f"expected an array of strings, got {_type_name(value)}")
        for index, item in enumerate(value):
            if not isinstance(item, str):
                raise PolicyConfigError(
                    f"{self.key(name)}[{index}]", f"expected a string, got {_type_name(item)}"
                )
        return tuple(value)

    def integer(self, name: str, default: int | None = None, minimum: int = 0) -> int | None:
        if not self.has(name):
            if default is None:
                return None
            return default
        value = self.raw(name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(name, f"expected an integer, got {_type_name(value)}")
        if value < minimum:
            raise self.error(name, f"must be at least {minimum}")
        return value

    def number(self, name: str) -> float:
        value = self.raw(name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(name, f"expected a number, got {_type_name(value)}")
        if value < 0:
            raise self.error(name, "must not be negative")
        return float(value)

    def duration(self, name: str) -> timedelta:
        """Seconds as a number, or a string such as "90s", "30m", "12h", "7d", "2w"."""
        value = self.raw(name)
        if isinstance(value, bool):
            raise self.error(name, 'expected seconds or a duration like "7d", got bool')
        if isinstance(value, int | float):
            seconds = float(value)
        elif isinstance(value, str) and (found := _DURATION.match(value)):
            seconds = float(found.group(1)) * _UNIT_SECONDS[found.group(2)]
        else:
            raise self.error(name, f'expected seconds or a duration like "7d", got {value!r}')
        if seconds <= 0:
            raise self.error(name, "must be positive")
        return timedelta(seconds=seconds)

    def finish(self) -> None:
        for name in self._options:
            if name not in self._seen:
                raise self.error(name, "unknown option for this rule kind")
