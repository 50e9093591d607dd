"""Just enough of RFC 8941 Structured Field Values to read the RFC 9421
``Signature-Input`` and ``Signature`` dictionaries."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from activitypub.errors import SignatureError

_TOKEN_RE = re.compile(r"[A-Za-z*][A-Za-z0-9_\-.:%*/]*")
_KEY_RE = re.compile(r"[a-z*][a-z0-9_\-.*]*")
_NUMBER_RE = re.compile(r"-?\d{1,15}(?:\.\d{1,3})?")


class SFScanner:
    """Just enough of RFC 8941 to read Signature-Input and Signature dictionaries."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def error(self, what: str) -> SignatureError:
        return SignatureError(f"malformed {what}")

    def skip_ows(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t":
            self.pos += 1

    def key(self) -> str:
        match = _KEY_RE.match(self.text, self.pos)
        if match is None:
            raise self.error("structured field key")
        self.pos = match.end()
        return match.group(0)

    def string(self) -> str:
        if self.text[self.pos : self.pos + 1] != '"':
            raise self.error("structured field string")
        out = []
        self.pos += 1
        while self.pos < len(self.text):
            char = self.text[self.pos]
            self.pos += 1
            if char == "\\":
                out.append(self.text[self.pos : self.pos + 1])
                self.pos += 1
            elif char == '"':
                return "".join(out)
            else:
                out.append(char)
        raise self.error("structured field string")

    def bare(self) -> str | int | bool:
        char = self.text[self.pos : self.pos + 1]
        if char == '"':
            return self.string()
        if char == "?":
            value = self.text[self.pos + 1 : self.pos + 2]
            self.pos += 2
            return value == "1"
        if char == ":":
            end = self.text.find(":", self.pos + 1)
            if end < 0:
                raise self.error("structured field byte sequence")
            value_bytes = self.text[self.pos + 1 : end]
            self.pos = end + 1
            return ":" + value_bytes + ":"
        if char == "-" or char.isdigit():
            match = _NUMBER_RE.match(self.text, self.pos)
            if match is None:
                raise self.error("structured field number")
            self.pos = match.end()
            return int(float(match.group(0)))
        match = _TOKEN_RE.match(self.text, self.pos)
        if match is None:
            raise self.error("structured field item")
        self.pos = match.end()
        return match.group(0)

    def params(self) -> dict[str, str | int | bool]:
        out: dict[str, str | int | bool] = {}
        while self.text[self.pos : self.pos + 1] == ";":
            self.pos += 1
            self.skip_ows()
            name = self.key()
            if self.text[self.pos : self.pos + 1] == "=":
                self.pos += 1
                out[name] = self.bare()
            else:
                out[name] = True
        return out

    def inner_list(self) -> tuple[list[tuple[str, dict[str, str | int | bool]]], dict[str, Any]]:
        if self.text[self.pos : self.pos + 1] != "(":
            raise self.error("Signature-Input (expected an inner list)")
        self.pos += 1
        items: list[tuple[str, dict[str, str | int | bool]]] = []
        while True:
            self.skip_ows()
            if self.text[self.pos : self.pos + 1] == ")":
                self.pos += 1
                break
            item = self.string()
            items.append((item, self.params()))
            if self.text[self.pos : self.pos + 1] not in (" ", ")"):
                raise self.error("Signature-Input inner list")
        return items, self.params()

    def dictionary(self, member: Callable[[], Any]) -> dict[str, tuple[Any, str]]:
        out: dict[str, tuple[Any, str]] = {}
        while True:
            self.skip_ows()
            if self.pos >= len(self.text):
                return out
            name = self.key()
            if self.text[self.pos : self.pos + 1] != "=":
                raise self.error("structured field dictionary")
            self.pos += 1
            start = self.pos
            value = member()
            out[name] = (value, self.text[start : self.pos])
            self.skip_ows()
            if self.pos >= len(self.text):
                return out
            if self.text[self.pos] != ",":
                raise self.error("structured field dictionary")
            self.pos += 1
