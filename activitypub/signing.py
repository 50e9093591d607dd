"""RSA signing in worker processes, so a delivery burst uses every core.

An RSA-2048 signature costs 250 µs–1 ms of CPU and the ``cryptography`` package keeps
the GIL while it signs, so threads do not help: one signed POST per follower made the
delivery worker one core of signing. ``SigningPool`` hands signing strings to a few
worker processes; the event loop keeps the HTTP side.

- The workers are plain subprocesses spoken to through their stdin/stdout pipes by the
  event loop itself. (``ProcessPoolExecutor`` was tried first: its submit wakes a manager
  thread through a pipe, and the GIL hand-over between that thread and the event loop
  cost more event-loop time than the signature it moved away.)
- Requests made while the workers are busy are batched (one round trip for many
  signatures), so the pool costs the event loop a few µs per signature. A worker holds
  two batches at a time (one signed, one waiting in its pipe), so it does not idle while
  the loop reads its answer and sends it the next.
- A worker parses each private key once and keeps the key object; the PEM travels with
  each batch that needs it, never per signature.
- If a worker dies, the signatures of its batch are made in the event loop and the
  worker is started again for the next batch. Nothing waits forever on a dead worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pickle
import signal
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from activitypub.keys import generate_keypair, load_private
from activitypub.signatures import sign_bytes

if TYPE_CHECKING:
    from activitypub.keys import PrivateKey

log = logging.getLogger("fedinode.signing")

_ROOT = str(Path(__file__).resolve().parent.parent)  # where the activitypub package lives
_HEADER = 4

# Worker-process state: key id → (PEM, key object).
_WORKER_KEYS: dict[str, tuple[str, PrivateKey]] = {}


def _worker_key(key_id: str, pem: str) -> PrivateKey:
    cached = _WORKER_KEYS.get(key_id)
    if cached is not None and cached[0] == pem:
        return cached[1]
    key = load_private(pem)
    _WORKER_KEYS[key_id] = (pem, key)
    return key


def sign_batch(pems: dict[str, str], items: list[tuple[str, bytes]]) -> list[bytes]:
    """Sign each ``(key_id, data)`` (runs in a worker process); ``pems`` holds the keys
    that are new to this worker, the others are already parsed."""
    for key_id, pem in pems.items():
        _worker_key(key_id, pem)
    return [sign_bytes(_WORKER_KEYS[key_id][1], data) for key_id, data in items]


def worker_main() -> None:
    """A signing worker: length-prefixed pickled batches in on stdin, results out."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when we stop
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        header = stdin.read(_HEADER)
        if len(header) < _HEADER:
            return  # the parent closed the pipe (or died)
        payload = stdin.read(int.from_bytes(header, "big"))
        pems, items = pickle.loads(payload)
        try:
            result: tuple[str, object] = ("ok", sign_batch(pems, items))
        except Exception as exc:  # the parent signs this batch itself and sees the error
            result = ("error", repr(exc))
        out = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
        stdout.write(len(out).to_bytes(_HEADER, "big") + out)
        stdout.flush()


def default_processes() -> int:
    """One signing process per core; none on a single core (nothing to gain)."""
    cores = os.cpu_count() or 1
    return cores if cores > 1 else 0


class _WorkerFailed(Exception):
    pass


class _Worker:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.keys: dict[str, str] = {}  # key id → PEM this worker has been sent
        self.outstanding = 0  # batches sent and not yet answered (the pool counts them)
        self._reading = asyncio.Lock()

    @classmethod
    async def start(cls) -> _Worker:
        code = f"import sys; sys.path.insert(0, {_ROOT!r}); import activitypub.signing as s; s.worker_main()"
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            code,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        return cls(process)

    @property
    def alive(self) -> bool:
        return self.process.returncode is None

    async def call(self, pems: dict[str, str], items: list[tuple[str, bytes]]) -> list[bytes]:
        """Sign ``items``; a PEM is sent only the first time (or when it changes).

        Calls may overlap: a batch is written at once (the worker reads it when it is done
        with the one before), and answers are read in the order the batches went, since
        nothing awaits between the write and the turn taken at the read lock (FIFO).
        """
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None and stdout is not None
        send = {k: pem for k, pem in pems.items() if self.keys.get(k) != pem}
        self.keys.update(send)
        payload = pickle.dumps((send, items), protocol=pickle.HIGHEST_PROTOCOL)
        try:
            stdin.write(len(payload).to_bytes(_HEADER, "big") + payload)
            async with self._reading:
                header = await stdout.readexactly(_HEADER)
                size = int.from_bytes(header, "big")
                status, value = pickle.loads(await stdout.readexactly(size))
        except (OSError, asyncio.IncompleteReadError) as exc:
            raise _WorkerFailed(f"signing worker gone: {exc!r}") from exc
        if status != "ok":
            self.keys.clear()  # resend every key next time
            raise _WorkerFailed(str(value))
        assert isinstance(value, list)
        return value

    async def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), 5.0)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            await self.process.wait()


_Item = tuple[str, str, bytes, "asyncio.Future[bytes]"]


class SigningPool:
    """``await pool.sign(key_id, pem, data)`` → signature bytes, made in a worker process.

    Each worker has up to ``depth`` batches in hand: one it signs, the next waiting in its
    pipe, so it never idles while the event loop reads its answer and sends it more (and
    the first signatures of a burst come back after a smaller batch).
    """

    max_batch = 64
    depth = 2

    def __init__(self, processes: int) -> None:
        self.processes = max(1, processes)
        self._workers: list[_Worker] = []
        self._starting: asyncio.Task[None] | None = None
        self._pending: list[_Item] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._scheduled = False
        self._closed = False
        self._start_failed_at = -1e9
        self.signed = 0
        self.batches = 0

    async def _start(self) -> None:
        missing = self.processes - len(self._workers)
        started = await asyncio.gather(
            *(_Worker.start() for _ in range(missing)), return_exceptions=True
        )
        for worker in started:
            if isinstance(worker, BaseException):
                log.warning("could not start a signing worker: %r", worker)
                self._start_failed_at = asyncio.get_running_loop().time()
            elif self._closed:
                await worker.stop()
            else:
                self._workers.append(worker)

    async def sign(self, key_id: str, pem: str, data: bytes) -> bytes:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bytes] = loop.create_future()
        self._pending.append((key_id, pem, data, future))
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._dispatch)
        return await future

    async def warm_up(self) -> None:
        """Start every worker process and have each import the crypto library."""
        if self._starting is None:
            self._starting = asyncio.create_task(self._start())
        await self._starting
        private_pem, _ = generate_keypair(1024)
        workers = list(self._workers)
        await asyncio.gather(*(w.call({"w": private_pem}, [("w", b"")]) for w in workers))

    def _dispatch(self) -> None:
        self._scheduled = False
        if not self._pending:
            return
        if self._closed:
            self._sign_here(self._pending)
            self._pending = []
            return
        loop = asyncio.get_running_loop()
        self._workers = [w for w in self._workers if w.alive]  # a dead one's batches fail over
        if self._starting is None or (
            self._starting.done()
            and len(self._workers) < self.processes
            and loop.time() - self._start_failed_at > 30.0
        ):
            self._starting = asyncio.create_task(self._start())
        if not self._starting.done():
            self._starting.add_done_callback(lambda _: self._schedule())
            return
        if not self._workers:  # no worker could start
            self._sign_here(self._pending)
            self._pending = []
            return
        while self._pending:
            worker = min(self._workers, key=lambda w: w.outstanding)
            if worker.outstanding >= self.depth:
                break  # every worker has its hands full; answers bring the next turn
            free = sum(self.depth - w.outstanding for w in self._workers)
            size = min(self.max_batch, -(-len(self._pending) // free))
            batch, self._pending = self._pending[:size], self._pending[size:]
            worker.outstanding += 1
            # Tasks start in the order they are made: batches reach the pipe in this order.
            task = asyncio.create_task(self._run(worker, batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _schedule(self) -> None:
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._dispatch)

    async def _run(self, worker: _Worker, batch: list[_Item]) -> None:
        pems = {key_id: pem for key_id, pem, _, _ in batch}
        items = [(key_id, data) for key_id, _, data, _ in batch]
        self.batches += 1
        try:
            signatures = await worker.call(pems, items)
        except _WorkerFailed as exc:
            if not worker.alive:  # not a bad key but a dead worker
                log.warning("%s; signing in the event loop until it is restarted", exc)
            self._sign_here(batch)
        else:
            for (*_, future), signature in zip(batch, signatures, strict=True):
                if not future.done():
                    future.set_result(signature)
            self.signed += len(batch)
        finally:
            worker.outstanding -= 1
            if self._pending:
                self._schedule()

    def _sign_here(self, batch: list[_Item]) -> None:
        for _, pem, data, future in batch:
            if future.done():
                continue
            try:
                future.set_result(sign_bytes(load_private(pem), data))
            except Exception as error:  # e.g. an unusable key: that delivery fails
                future.set_exception(error)

    async def close(self) -> None:
        """Stop the worker processes; signatures still pending are made in the loop."""
        self._closed = True
        if self._starting is not None:
            with contextlib.suppress(Exception):
                await self._starting
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        workers, self._workers = self._workers, []
        await asyncio.gather(*(w.stop() for w in workers), return_exceptions=True)
        if self._pending:
            self._sign_here(self._pending)
            self._pending = []


class SigningThreads:
    """``await pool.sign(key_id, pem, data)`` → signature bytes, made in a worker thread.

    ``cryptography`` ≥ 47 releases the GIL while OpenSSL makes an RSA signature, so
    threads of this process sign on every core. As with the processes, requests made
    while the threads are busy go together (one executor hand-over for many signatures),
    and each private key is parsed once and kept as a key object.
    """

    max_batch = 64

    def __init__(self, threads: int) -> None:
        self.processes = max(1, threads)  # the name SigningPool uses: how many sign at once
        self._executor = ThreadPoolExecutor(self.processes, thread_name_prefix="fedinode-sign")
        self._keys: dict[str, tuple[str, PrivateKey]] = {}
        self._pending: list[_Item] = []
        self._busy = 0
        self._scheduled = False
        self._closed = False
        self._tasks: set[asyncio.Task[None]] = set()
        self.signed = 0
        self.batches = 0

    def _key(self, key_id: str, pem: str) -> PrivateKey:
        cached = self._keys.get(key_id)
        if cached is not None and cached[0] == pem:
            return cached[1]
        key = load_private(pem)
        self._keys[key_id] = (pem, key)
        return key

    async def sign(self, key_id: str, pem: str, data: bytes) -> bytes:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bytes] = loop.create_future()
        self._pending.append((key_id, pem, data, future))
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._dispatch)
        return await future

    async def warm_up(self) -> None:
        """Start every thread."""
        loop = asyncio.get_running_loop()
        await asyncio.gather(
            *(loop.run_in_executor(self._executor, int) for _ in range(self.processes))
        )

    def _dispatch(self) -> None:
        self._scheduled = False
        while self._pending and self._busy < self.processes:
            free = self.processes - self._busy
            size = min(self.max_batch, -(-len(self._pending) // free))
            batch, self._pending = self._pending[:size], self._pending[size:]
            self._busy += 1
            task = asyncio.create_task(self._run(batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run(self, batch: list[_Item]) -> None:
        self.batches += 1
        try:
            # Keys are parsed here, in the event loop's thread: the dict is not shared.
            work: list[tuple[PrivateKey, bytes] | BaseException] = []
            for key_id, pem, data, _ in batch:
                try:
                    work.append((self._key(key_id, pem), data))
                except Exception as error:  # an unusable key: that delivery fails
                    work.append(error)
            loop = asyncio.get_running_loop()
            results = await loop.run_in_executor(self._executor, _sign_all, work)
            for (*_, future), result in zip(batch, results, strict=True):
                if future.done():
                    continue
                if isinstance(result, BaseException):
                    future.set_exception(result)
                else:
                    future.set_result(result)
                    self.signed += 1
        finally:
            self._busy -= 1
            if self._pending and not self._scheduled:
                self._scheduled = True
                asyncio.get_running_loop().call_soon(self._dispatch)

    async def close(self) -> None:
        """Finish what was asked for, then stop the threads."""
        self._closed = True
        while self._pending or self._tasks:
            if self._pending:
                self._dispatch()  # now, not at the turn a sign() may have asked for
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._executor.shutdown(wait=False)


def _sign_all(work: list[tuple[PrivateKey, bytes] | BaseException]) -> list[bytes | BaseException]:
    """Runs in a signing thread; OpenSSL releases the GIL while it signs."""
    out: list[bytes | BaseException] = []
    for entry in work:
        if isinstance(entry, BaseException):
            out.append(entry)
            continue
        try:
            out.append(sign_bytes(entry[0], entry[1]))
        except Exception as error:
            out.append(error)
    return out
