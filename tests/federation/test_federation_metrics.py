"""Two instances federate; each one's /metrics shows the deliveries it sent, the
activities its inbox took and processed, and a peer that stopped answering."""

from __future__ import annotations

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from federation.conftest import Instance, InstanceFactory, eventually, free_port
from fedinode.metrics import METRICS


async def scrape(instance: Instance) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://{instance.domain}/metrics") as r,
    ):
        assert r.status == 200
        text = await r.text()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_deliveries_inbox_and_unreachable_peers_show_in_metrics(
    instances: InstanceFactory, backend: str
) -> None:
    a = await instances("a", backend=backend)
    b = await instances("b", backend=backend)
    alice = await a.user("alice")
    await b.user("bob")
    bob_on_a = await a.follow(alice, f"bob@{b.domain}")  # Follow a → b, Accept b → a
    await eventually(lambda: a.store.relationships.get_follow(alice.id, bob_on_a.id), what="accept")

    async def sent_and_taken() -> bool:
        on_a, on_b = await scrape(a), await scrape(b)
        return (
            value(on_a, "fedinode_deliveries_total", outcome="sent") >= 1
            and value(on_b, "fedinode_inbox_requests_total", outcome="accepted") >= 1
            and value(on_b, "fedinode_inbox_processed_total") >= 1
            and value(
                on_a,
                "fedinode_http_requests_total",
                method="POST",
                route="/users/{username}/inbox",
                status="2xx",
            )
            >= 1
        )

    await eventually(sent_and_taken, what="sent, taken and processed in the metrics")

    # A peer that does not answer: the delivery is retried and the peer counted unreachable.
    gone = f"http://127.0.0.1:{free_port()}/inbox"
    await a.fed.outbox.enqueue(alice, {"id": f"{alice.uri}#notes/1", "type": "Note"}, [gone])
    assert a.app is not None
    database = a.app[METRICS].database
    assert database is not None
    database.ttl = 0  # no cached reading between the polls below

    async def retried() -> bool:
        on_a = await scrape(a)
        return (
            value(on_a, "fedinode_deliveries_total", outcome="retry") >= 1
            and value(on_a, "fedinode_peers_unreachable") == 1
            and value(on_a, "fedinode_queue_rows", queue="delivery", state="retry") == 1
        )

    await eventually(retried, within=15, what="a retry and an unreachable peer in the metrics")
