"""Log output: text or JSON lines (``[logging] format``), and a cheap access log.

The access log writes one line per request with the client address (behind
``server.trusted_proxies``), method, path (never the query string: it may carry an access
token), status, bytes, duration and request id. aiohttp's own access logger interprets a
format string and formats a local time per request; this one does neither, and does
nothing at all when the ``fedinode.access`` logger is off (``server.access_log = false``
or a level above INFO).
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

import orjson
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from fedinode.client_ip import Networks, client_ip
from fedinode.config import Config
from fedinode.middlewares import CURRENT_REQUEST_ID, REQUEST_ID

ACCESS_LOGGER = "fedinode.access"


def _iso_time(created: float) -> str:
    seconds = int(created)
    millis = int((created - seconds) * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, request_id when in a
    request, the access log's request fields, and the traceback of an exception."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _iso_time(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request = getattr(record, "request", None)
        if isinstance(request, dict):
            line.update(request)
        else:
            rid = CURRENT_REQUEST_ID.get()
            if rid:
                line["request_id"] = rid
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        return orjson.dumps(line, default=str).decode()


def _route(request: web.BaseRequest) -> str:
    """The route template that took the request (``/users/{username}``), "" for none."""
    if not isinstance(request, web.Request):
        return ""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else ""


def access_logger_class(config: Config) -> type[AbstractAccessLogger]:
    """The access logger for this configuration (JSON fields or one text line)."""
    trusted = Networks(config.server.trusted_proxies)
    as_json = config.logging.format == "json"

    class AccessLogger(AbstractAccessLogger):
        @property
        def enabled(self) -> bool:
            return self.logger.isEnabledFor(logging.INFO)

        def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
            ip = client_ip(request, trusted) if isinstance(request, web.Request) else "-"
            method, path, status = request.method, request.path, response.status
            fields: dict[str, Any] | None = None
            if as_json:
                message = f"{method} {path} {status}"
                fields = {
                    "request": {
                        "request_id": request.get(REQUEST_ID, ""),
                        "client_ip": ip,
                        "method": method,
                        "path": path,
                        "route": _route(request),
                        "status": status,
                        "bytes": response.body_length,
                        "duration_ms": round(time * 1000, 2),
                        "user_agent": request.headers.get("User-Agent", ""),
                    }
                }
            else:
                message = (
                    f'{ip} "{method} {path}" {status} {response.body_length} {time * 1000:.1f}ms'
                )
            # The record is made here rather than by logger.info(): no caller lookup (a
            # stack walk) and no %-formatting for a line that is already a string.
            record = self.logger.makeRecord(
                self.logger.name, logging.INFO, __file__, 0, message, (), None, extra=fields
            )
            self.logger.handle(record)

    return AccessLogger


def access_log_options(config: Config) -> dict[str, Any]:
    """``web.AppRunner`` keyword arguments for the access log ``config`` asks for."""
    if not config.server.access_log:
        return {"access_log": None}
    return {
        "access_log": logging.getLogger(ACCESS_LOGGER),
        "access_log_class": access_logger_class(config),
    }


def configure_logging(config: Config) -> None:
    """Apply ``[logging] format`` to the root logger's handlers (one to stderr if none)."""
    if config.logging.format != "json":
        return
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler(sys.stderr))
    for handler in root.handlers:
        handler.setFormatter(JsonFormatter())
