"""``/metrics`` in Prometheus text: requests, inbox outcomes, policy decisions, deliveries,
streams and database pool from this process; queue depths and unreachable peers from the
database (shared by the fleet) when a scraper asks, at most once per ``cache_seconds``.

Several processes: with ``PROMETHEUS_MULTIPROC_DIR`` set in the environment (an empty
directory, cleared before the fleet starts), every process writes its samples there and any
one of them answers for all (prometheus-client's multiprocess mode). The protocol layer's
own tallies (plain counters, it knows nothing of Prometheus) are copied into the metrics
every few seconds and on each scrape, so a scrape of one process sees the others' too.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Iterable
from typing import Any

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from fedinode import appkeys
from fedinode.client_ip import Networks, client_ip, parse_address
from fedinode.config import Config
from fedinode.middlewares import error_response
from fedinode.version import FEDINODE_VERSION
from storage.gauges import QueueGauges, pool_usage, queue_gauges
from storage.store import Store

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SYNC_EVERY_S = 5.0
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Latency buckets in seconds: an API read is a few ms, a slow timeline or a signed fetch
# hundreds.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"  # a path no route took (404, or a 405 on no route): one series
INBOX_ROUTES = frozenset({"/inbox", "/actor/inbox", "/users/{username}/inbox"})
# What an inbox answer means for the sender, by status (the reason text is free-form).
INBOX_OUTCOMES = {
    202: "accepted",
    400: "malformed",
    401: "signature",
    403: "refused",
    404: "no_such_inbox",
    413: "too_large",
    415: "content_type",
    429: "rate_limited",
}
LONG_LIVED = ("/api/v1/streaming",)  # open for minutes: their duration is no latency


class DatabaseCollector(Collector):
    """Queue and peer gauges from the last database reading (refreshed before a scrape)."""

    def __init__(self, store: Callable[[], Store | None], ttl: float) -> None:
        self._store = store
        self.ttl = ttl
        self._read_at = -1e9
        self._gauges: QueueGauges | None = None
        self._up = False
        self._lock = asyncio.Lock()

    async def refresh(self) -> None:
        """Read the database unless a reading younger than the cache time exists."""
        async with self._lock:  # a scrape arriving meanwhile waits for this one's reading
            if time.monotonic() - self._read_at < self.ttl:
                return
            store = self._store()
            try:
                if store is None:
                    raise RuntimeError("no database yet")
                self._gauges = await asyncio.wait_for(queue_gauges(store.db), timeout=5.0)
                self._up = True
            except Exception:
                self._gauges, self._up = None, False
            self._read_at = time.monotonic()

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily(
            "fedinode_database_up", "Whether the last reading of the database succeeded"
        )
        up.add_metric([], 1.0 if self._up else 0.0)
        yield up
        g = self._gauges
        if g is None:
            return
        depth = GaugeMetricFamily(
            "fedinode_queue_rows",
            "Rows in the inbox and delivery queues by state (done rows are left out;"
            ' state="dead" are deliveries given up)',
            labels=["queue", "state"],
        )
        for state, n in g.inbox.items():
            depth.add_metric(["inbox", state], n)
        for state, n in g.deliveries.items():
            depth.add_metric(["delivery", state], n)
        yield depth
        age = GaugeMetricFamily(
            "fedinode_queue_oldest_age_seconds",
            "Age of the oldest row still waiting in each queue (0 when none waits)",
            labels=["queue"],
        )
        age.add_metric(["inbox"], g.inbox_oldest_age_s)
        age.add_metric(["delivery"], g.delivery_oldest_age_s)
        yield age
        dead = GaugeMetricFamily("fedinode_deliveries_dead", "Deliveries given up on (dead)")
        dead.add_metric([], g.deliveries.get("dead", 0))
        yield dead
        peers = GaugeMetricFamily(
            "fedinode_peers_unreachable", "Peers whose last delivery attempts failed"
        )
        peers.add_metric([], g.unreachable_peers)
        yield peers


class Metrics:
    """This process's metrics and what answers ``/metrics``."""

    def __init__(self, config: Config) -> None:
        settings = config.metrics
        self.allow = Networks(settings.allow)
        self.trusted = Networks(config.server.trusted_proxies)
        self.token = settings.token
        self.multiprocess_dir = os.environ.get(MULTIPROC_ENV, "")
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "fedinode_http_requests",
            "HTTP requests answered, by route template and status class",
            ["method", "route", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "fedinode_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template (streams left out)",
            ["method", "route"],
            buckets=BUCKETS,
            registry=r,
        )
        self.inbox = Counter(
            "fedinode_inbox_requests",
            "Activities POSTed to our inboxes, by what we answered",
            ["outcome"],
            registry=r,
        )
        self.processed = Counter(
            "fedinode_inbox_processed", "Inbox activities processed by the inbox worker", registry=r
        )
        self.forwarded = Counter(
            "fedinode_inbox_forwarded",
            "Activities delivered by someone other than their actor, by what vouched for them",
            ["vouched_by"],
            registry=r,
        )
        self.deliveries = Counter(
            "fedinode_deliveries",
            "Delivery attempts by outcome: sent, retry (failed, tried again later), dead",
            ["outcome"],
            registry=r,
        )
        self.policy = Counter(
            "fedinode_policy_decisions",
            "Policy decisions other than a plain accept, by rule and action",
            ["direction", "rule", "action", "enforced"],
            registry=r,
        )
        self.streams = Gauge(
            "fedinode_streaming_connections",
            "Open streaming connections (WebSocket and server-sent events)",
            registry=r,
            multiprocess_mode="livesum",
        )
        self.pool = Gauge(
            "fedinode_db_pool_connections",
            "Database pool connections: in_use, idle and max (PostgreSQL)",
            ["state"],
            registry=r,
            multiprocess_mode="livesum",
        )
        info = Gauge(
            "fedinode_build_info",
            "The running version",
            ["version"],
            registry=r,
            multiprocess_mode="max",
        )
        info.labels(FEDINODE_VERSION).set(1)
        self._request_children: dict[tuple[str, str, str], Any] = {}
        self._latency_children: dict[tuple[str, str], Any] = {}
        self._inbox_children: dict[str, Any] = {}
        self._seen: dict[Hashable, float] = {}
        self.database: DatabaseCollector | None = None
        self.output = r
        if self.multiprocess_dir:
            self.output = CollectorRegistry()
            multiprocess.MultiProcessCollector(self.output, path=self.multiprocess_dir)  # type: ignore[no-untyped-call]
        else:
            ProcessCollector(registry=r)

    def attach_database(self, store: Callable[[], Store | None], ttl: float) -> None:
        self.database = DatabaseCollector(store, ttl)
        self.output.register(self.database)

    # -- requests -------------------------------------------------------------------------

    def observe(self, method: str, route: str, status: int, seconds: float | None) -> None:
        method = method if method in _METHODS else "other"
        key = (method, route, f"{status // 100}xx")
        child = self._request_children.get(key)
        if child is None:
            child = self._request_children[key] = self.requests.labels(*key)
        child.inc()
        if seconds is not None:
            lkey = (method, route)
            timer = self._latency_children.get(lkey)
            if timer is None:
                timer = self._latency_children[lkey] = self.latency.labels(*lkey)
            timer.observe(seconds)
        if route in INBOX_ROUTES and method == "POST":
            outcome = INBOX_OUTCOMES.get(status, "error" if status >= 500 else str(status))
            counter = self._inbox_children.get(outcome)
            if counter is None:
                counter = self._inbox_children[outcome] = self.inbox.labels(outcome)
            counter.inc()

    # -- tallies kept by the layers below -------------------------------------------------

    def _mirror(self, key: Hashable, value: float, child: Any) -> None:
        delta = value - self._seen.get(key, 0)
        if delta > 0:
            child.inc(delta)
            self._seen[key] = value

    def sync(self, app: web.Application) -> None:
        """Copy this process's tallies into the metrics (increments since the last copy)."""
        gate = app.get(appkeys.POLICY)
        if gate is not None:
            for (direction, rule, action, enforced), n in list(gate.decided.items()):
                labels = (direction, rule, action, "true" if enforced else "false")
                self._mirror(("policy", *labels), n, self.policy.labels(*labels))
        federation = app.get(appkeys.FEDERATION)
        if federation is not None:
            delivery = federation.delivery
            self._mirror("sent", delivery.sent, self.deliveries.labels("sent"))
            self._mirror("retry", delivery.retried, self.deliveries.labels("retry"))
            self._mirror("dead", delivery.failed, self.deliveries.labels("dead"))
            self._mirror("processed", federation.processor.processed, self.processed)
            for how, n in list(federation.intake.forwarded.items()):
                self._mirror(("forwarded", how), n, self.forwarded.labels(how))
        from fedinode.api.streaming import HUB

        hub = app.get(HUB)
        self.streams.set(len(hub.listeners) if hub is not None else 0)
        store = app.get(appkeys.STORE)
        usage = pool_usage(store.db) if store is not None else None
        if usage is not None:
            self.pool.labels("in_use").set(usage.size - usage.idle)
            self.pool.labels("idle").set(usage.idle)
            self.pool.labels("max").set(usage.max_size)

    # -- access ---------------------------------------------------------------------------

    def allowed(self, request: web.Request) -> bool:
        """A client in ``[metrics] allow``, or one that presents ``[metrics] token``."""
        if self.token:
            given = request.headers.get("Authorization", "")
            if hmac.compare_digest(given.encode(), f"Bearer {self.token}".encode()):
                return True
        return parse_address(client_ip(request, self.trusted)) in self.allow

    def render(self) -> bytes:
        return generate_latest(self.output)


METRICS = web.AppKey("fedinode.metrics", Metrics)


def route_of(request: web.Request) -> str:
    """The route template that took the request (``/users/{username}``), never the raw path."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else UNMATCHED


def metrics_middleware(metrics: Metrics) -> Any:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            _record(metrics, request, exc.status, started, long_lived=False)
            raise
        except Exception:
            _record(metrics, request, 500, started, long_lived=False)
            raise
        _record(
            metrics,
            request,
            response.status,
            started,
            long_lived=isinstance(response, web.WebSocketResponse),
        )
        return response

    return middleware


def _record(
    metrics: Metrics, request: web.Request, status: int, started: float, *, long_lived: bool
) -> None:
    route = route_of(request)
    if long_lived or route.startswith(LONG_LIVED):
        metrics.observe(request.method, route, status, None)
    else:
        metrics.observe(request.method, route, status, time.perf_counter() - started)


async def metrics_view(request: web.Request) -> web.Response:
    metrics = request.app[METRICS]
    if not metrics.allowed(request):
        return error_response(403, "Metrics are not available to this client")
    metrics.sync(request.app)
    if metrics.database is not None:
        await metrics.database.refresh()
    response = web.Response(body=metrics.render())
    response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
    response.charset = "utf-8"
    response.headers["Cache-Control"] = "no-store"
    return response


def _metrics_ctx(metrics: Metrics) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        async def copy_forever() -> None:
            while True:
                await asyncio.sleep(SYNC_EVERY_S)
                with contextlib.suppress(Exception):  # a reading lost is made up next time
                    metrics.sync(app)

        task = asyncio.create_task(copy_forever(), name="fedinode-metrics")
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        metrics.sync(app)
        if metrics.multiprocess_dir:
            # This process's live gauges (streams, pool) leave the fleet's sums.
            multiprocess.mark_process_dead(os.getpid(), metrics.multiprocess_dir)  # type: ignore[no-untyped-call]

    return ctx


def setup_metrics(app: web.Application, config: Config) -> None:
    """``/metrics``, the middleware that counts requests and the copying of tallies;
    nothing at all with ``[metrics] enabled = false``."""
    if not config.metrics.enabled:
        return
    metrics = Metrics(config)
    metrics.attach_database(lambda: app.get(appkeys.STORE), config.metrics.cache_seconds)
    app[METRICS] = metrics
    app.middlewares.insert(0, metrics_middleware(metrics))
    app.cleanup_ctx.append(_metrics_ctx(metrics))
    app.router.add_get("/metrics", metrics_view)
