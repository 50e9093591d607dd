"""Fan-out benchmark: one post delivered to F remote followers spread over P peers.

    python bench/fanout.py [--followers 2000] [--peers 20] [--shared-inbox] [--concurrency 32]
                           [--signing threads|processes]

The sender is a full instance (SQLite) in this process; the P peers are fake inboxes on
loopback in a separate process that answer 202 and count. By default every follower has
a personal inbox, so each follower costs one signed POST (the worst case); with
``--shared-inbox`` followers on one peer share its inbox and the post costs P POSTs.
Prints signed deliveries/s (target: ≥ 2,500/s) and the time to the last delivery.
``--signing`` picks how RSA signatures use the other cores: signing processes (the
default, as the server's) or threads of the sender (cryptography releases the GIL while it
signs, but needs it back after each signature).
"Sender CPU" splits into the signing threads and the rest (the event loop): judge a change
by the loop's µs per delivery when the machine is shared. ``BENCH_PROFILE=out.txt`` samples
the delivery phase with py-spy, ``BENCH_CPROFILE=out.prof`` profiles it with cProfile, and
``BENCH_CALLGRIND=1`` (under ``valgrind --tool=callgrind --instr-atstart=no``) counts its
instructions.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fedinode import appkeys  # noqa: E402
from fedinode.app import create_app  # noqa: E402
from fedinode.config import (  # noqa: E402
    Config,
    DatabaseConfig,
    FederationConfig,
    InstanceConfig,
    MediaConfig,
    ServerConfig,
)
from fedinode.services.users import create_local_user  # noqa: E402
from storage.accounts import NewAccount  # noqa: E402
from storage.statuses import NewStatus  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- the fake peers (child process) -----------------------------------------------------
#
# A real receiver runs on its own machine; these share the sender's two cores, so they are
# as cheap as an HTTP/1.1 keep-alive server can be (a bare asyncio protocol, no framework):
# each request's body is read in full, a signed one counts and is answered 202, an
# unsigned one 401. Only ``GET /stats`` and ``GET /expect?n=N`` (print ``done <time>``
# once N signed requests are in, so the sender need not poll) are anything else.


class PeerCounter:
    def __init__(self) -> None:
        self.received = 0
        self.expect = 0

    def count(self) -> None:
        self.received += 1
        if self.received == self.expect:
            print(f"done {time.monotonic()!r}", flush=True)


_ACCEPTED = b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"
_UNSIGNED = b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n"


class PeerInbox(asyncio.Protocol):
    def __init__(self, counter: PeerCounter) -> None:
        self.counter = counter
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no subclass

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head = bytes(self.buffer[:end]).lower()
            length = 0
            if (at := head.find(b"\r\ncontent-length:")) >= 0:
                length = int(head[at + 17 :].split(b"\r\n", 1)[0])
            if len(self.buffer) < end + 4 + length:
                return  # the rest of the body is on its way
            del self.buffer[: end + 4 + length]
            assert self.transport is not None
            self.transport.write(self.answer(head))

    def answer(self, head: bytes) -> bytes:
        line = head.split(b"\r\n", 1)[0]
        if line.startswith(b"get /expect?n="):
            self.counter.expect = int(line[14:].split(b" ", 1)[0])
            return self.json({"expect": self.counter.expect})
        if line.startswith(b"get /stats "):
            return self.json({"received": self.counter.received})
        if not line.startswith(b"post ") or b"\r\nsignature:" not in head:
            return _UNSIGNED
        self.counter.count()
        return _ACCEPTED

    @staticmethod
    def json(document: dict[str, int]) -> bytes:
        body = json.dumps(document).encode()
        return (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                + str(len(body)).encode() + b"\r\n\r\n" + body)  # fmt: skip


async def serve_peers(ports: list[int]) -> None:
    loop = asyncio.get_running_loop()
    counter = PeerCounter()
    servers = [
        await loop.create_server(lambda: PeerInbox(counter), "127.0.0.1", port, backlog=1024)
        for port in ports
    ]
    print("ready", flush=True)
    async with contextlib.AsyncExitStack() as stack:
        for server in servers:
            await stack.enter_async_context(server)
        await asyncio.Event().wait()


# -- the sender -------------------------------------------------------------------------


async def received(session: aiohttp.ClientSession, port: int) -> int:
    async with session.get(f"http://127.0.0.1:{port}/stats") as response:
        return int((await response.json())["received"])


async def expect(session: aiohttp.ClientSession, port: int, count: int) -> None:
    """Have the fake peers say (``done <time>`` on their stdout) when ``count`` are in."""
    async with session.get(f"http://127.0.0.1:{port}/expect?n={count}") as response:
        response.raise_for_status()


async def peers_done(peers: subprocess.Popen[bytes], within: float) -> float | None:
    """``time.monotonic()`` at the last expected delivery, as the fake peers saw it; None
    if they did not see them all within ``within`` seconds (or stopped)."""
    assert peers.stdout is not None
    loop = asyncio.get_running_loop()
    try:
        line = await asyncio.wait_for(loop.run_in_executor(None, peers.stdout.readline), within)
    except TimeoutError:
        return None
    word, _, moment = line.decode().partition(" ")
    return float(moment) if word == "done" else None


def start_peers(count: int) -> tuple[list[int], subprocess.Popen[bytes]]:
    """The fake peers' ports and process; new ports if one was taken meanwhile."""
    for _ in range(5):
        ports = [free_port() for _ in range(count)]
        peers = subprocess.Popen(
            [sys.executable, __file__, "--serve-peers", ",".join(map(str, ports))],
            stdout=subprocess.PIPE,
        )
        assert peers.stdout is not None
        if peers.stdout.readline().strip() == b"ready":
            return ports, peers
        peers.wait(timeout=10)  # it could not listen on one of the ports
    raise RuntimeError("the fake peers could not start")


TARGET = 2500  # signed deliveries/s (the performance issue's target)


def process_cpu(pid: int, stat: str = "") -> float:
    """CPU seconds (user + system) used so far by a process (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(stat or f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child_pids(parent: int) -> list[int]:
    """Processes whose parent is ``parent`` (the signing pool's workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == parent:
                found.append(int(entry.name))
    return found


def signing_thread_cpu() -> float:
    """CPU seconds used so far by this process's signing threads (Linux /proc; 0 elsewhere)."""
    total = 0.0
    for thread in threading.enumerate():
        if thread.name.startswith("fedinode-sign") and thread.native_id is not None:
            total += process_cpu(thread.native_id, f"/proc/self/task/{thread.native_id}/stat")
    return total


async def callgrind(switch: str) -> None:
    """Turn valgrind's instruction counting of this process on or off."""
    control = await asyncio.create_subprocess_exec(
        "callgrind_control", "-i", switch, str(os.getpid()), stdout=subprocess.DEVNULL
    )
    await control.wait()


def start_profiler(path: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(os.getpid()), "--rate", "250", "--format", "raw",
         "--output", path, "--nonblocking"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip


async def main(args: argparse.Namespace) -> int:
    ports, peers = start_peers(args.peers)
    data = Path(tempfile.mkdtemp(prefix="fedinode-bench-fanout-"))
    port = free_port()
    config = Config(
        instance=InstanceConfig(domain=f"127.0.0.1:{port}"),
        server=ServerConfig(port=port, access_log=False),
        database=DatabaseConfig(url=f"sqlite:///{data}/sender.sqlite3"),
        federation=FederationConfig(
            scheme="http", allow_private_addresses=True, delivery_concurrency=args.concurrency
        ),
        media=MediaConfig(directory=str(data / "media")),
    )
    app = create_app(config)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        store = app[appkeys.STORE]
        fed = app[appkeys.FEDERATION]
        _, author = await create_local_user(store, app[appkeys.URLS], username="author",
                                            email="a@bench.test", password="benchmark!")  # fmt: skip
        print(f"creating {args.followers} remote followers over {args.peers} peers…")
        for i in range(args.followers):
            peer_port = ports[i % args.peers]
            base = f"http://127.0.0.1:{peer_port}"
            follower = await store.accounts.create(
                NewAccount(
                    username=f"f{i}",
                    domain=f"127.0.0.1:{peer_port}",
                    uri=f"{base}/users/f{i}",
                    inbox_url=f"{base}/users/f{i}/inbox",
                    shared_inbox_url=f"{base}/inbox" if args.shared_inbox else "",
                )
            )
            await store.relationships.follow(follower.id, author.id)
        inboxes = len(await store.relationships.follower_inboxes(author.id))

        status = await store.statuses.create(
            NewStatus(account_id=author.id, local=True, content="<p>fan-out</p>", text="fan-out"),
            uri_template=app[appkeys.URLS].status_template("author"),
        )
        started = time.perf_counter()
        fed.delivery.sign_in_threads = args.signing == "threads"
        if os.environ.get("BENCH_CALLGRIND") and hasattr(fed.delivery, "flush_interval"):
            fed.delivery.flush_interval *= 50  # as slow as everything runs under valgrind
        processes = await fed.delivery.start_signing_pool()
        helpers = [pid for pid in child_pids(os.getpid()) if pid != peers.pid]
        print(f"signing pool: {processes} {args.signing}, started in "
              f"{(time.perf_counter() - started) * 1000:.0f} ms")  # fmt: skip
        profiler = None
        if os.environ.get("BENCH_PROFILE"):  # sample the delivery phase with py-spy
            profiler = start_profiler(os.environ["BENCH_PROFILE"])
            await asyncio.sleep(1.0)
        cprofile = None
        if os.environ.get("BENCH_CPROFILE"):  # the event loop's thread only, with cProfile
            import cProfile

            cprofile = cProfile.Profile(time.thread_time)  # CPU, not waits for the GIL
            cprofile.enable()
        if os.environ.get("BENCH_CALLGRIND"):  # run under valgrind --instr-atstart=no
            await callgrind("on")
        async with aiohttp.ClientSession() as control:
            await expect(control, ports[0], inboxes)  # one counter for all the fake peers
        cpu_before = resource.getrusage(resource.RUSAGE_SELF)
        helpers_before = sum(process_cpu(pid) for pid in helpers)
        signers_before = signing_thread_cpu()
        peers_before = process_cpu(peers.pid)
        started = time.monotonic()
        await fed.outbox.status_created(status)
        enqueued = time.monotonic() - started
        # The fake peers say when the last one is in: no polling here to cost the sender.
        finished = await peers_done(peers, 2000.0 if os.environ.get("BENCH_CALLGRIND") else 300.0)
        elapsed = (time.monotonic() if finished is None else finished) - started
        cpu_after = resource.getrusage(resource.RUSAGE_SELF)
        if os.environ.get("BENCH_CALLGRIND"):
            await callgrind("off")
        if cprofile is not None:
            cprofile.disable()
            cprofile.dump_stats(os.environ["BENCH_CPROFILE"])
        helpers_cpu = sum(process_cpu(pid) for pid in helpers) - helpers_before
        signers_cpu = signing_thread_cpu() - signers_before
        peers_cpu = process_cpu(peers.pid) - peers_before
        async with aiohttp.ClientSession() as control:
            total = await received(control, ports[0])
        if profiler is not None:
            profiler.send_signal(signal.SIGINT)
            profiler.wait(timeout=30)
        cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (
            cpu_after.ru_stime - cpu_before.ru_stime
        )
        pool = fed.delivery.signing_pool
        states = await store.queues.deliveries_by_state()
        print(f"\none post to {args.followers} followers on {args.peers} peers "
              f"({'shared' if args.shared_inbox else 'personal'} inboxes)")  # fmt: skip
        print(f"  signed POSTs        {total:,} of {inboxes:,} inboxes")
        print(f"  enqueue             {enqueued * 1000:.0f} ms")
        print(f"  time to last        {elapsed:.2f} s")
        rate = total / elapsed
        print(f"  deliveries/s        {rate:,.0f}   (target ≥ {TARGET:,}: "
              f"{'pass' if rate >= TARGET else 'FAIL'})")  # fmt: skip
        print(f"  followers reached/s {args.followers / elapsed:,.0f}")
        print(f"  sender CPU          {cpu / elapsed:.0%} of a core, {cpu / max(total, 1) * 1e6:,.0f} µs"
              " per delivery (event loop, and signing threads)")  # fmt: skip
        loop_cpu = cpu - signers_cpu
        print(f"    of which loop     {loop_cpu / elapsed:.0%} of a core, "
              f"{loop_cpu / max(total, 1) * 1e6:,.0f} µs per delivery (all but the signing threads)")  # fmt: skip
        print(f"    signing threads   {signers_cpu / elapsed:.0%} of a core, "
              f"{signers_cpu / max(total, 1) * 1e6:,.0f} µs per delivery")  # fmt: skip
        print(f"  signing processes   {helpers_cpu / elapsed:.0%} of a core, "
              f"{helpers_cpu / max(total, 1) * 1e6:,.0f} µs per delivery")  # fmt: skip
        if pool is not None:
            print(f"  signing batches     {pool.batches:,} for {pool.signed:,} signatures")
        print(f"  fake peers          {peers_cpu / elapsed:.0%} of a core, "
              f"{peers_cpu / max(total, 1) * 1e6:,.0f} µs per delivery")  # fmt: skip
        await asyncio.sleep(0.3)
        print(f"  queue states        {await store.queues.deliveries_by_state() or states}")
        return 0 if total >= inboxes else 1
    finally:
        await runner.cleanup()
        peers.terminate()
        peers.wait(timeout=10)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--followers", type=int, default=2000)
    parser.add_argument("--peers", type=int, default=20)
    parser.add_argument("--shared-inbox", action="store_true")
    parser.add_argument("--signing", choices=("threads", "processes"), default="processes")
    parser.add_argument("--concurrency", type=int, default=int(os.environ.get("CONCURRENCY", 32)))
    parser.add_argument("--serve-peers", default="", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    try:  # as `fedinode serve` runs
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover
        pass
    if arguments.serve_peers:
        asyncio.run(serve_peers([int(p) for p in arguments.serve_peers.split(",")]))
    else:
        sys.exit(asyncio.run(main(arguments)))
