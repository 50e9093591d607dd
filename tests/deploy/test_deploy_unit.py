"""``deploy/fedinode.service`` starts what the CLI accepts, for every role, and systemd reads
it without a complaint."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from fedinode.cli import build_parser

REPO = Path(__file__).resolve().parents[2]
UNIT = REPO / "deploy" / "fedinode.service"


def settings() -> list[tuple[str, str]]:
    pairs = []
    for line in UNIT.read_text().splitlines():
        if line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            pairs.append((key, value))
    return pairs


def commands(role: str) -> list[list[str]]:
    """The fedinode command lines of ExecStartPre/ExecStart, with FEDINODE_ROLE=role."""
    found = []
    for key, value in settings():
        if key in ("ExecStartPre", "ExecStart"):
            argv = shlex.split(value.replace("${FEDINODE_ROLE}", role))
            assert Path(argv[0]).name == "fedinode", argv
            found.append(argv[1:])
    return found


def test_the_unit_runs_migrate_then_serve_in_the_role_set_for_the_machine() -> None:
    env = dict(v.partition("=")[::2] for k, v in settings() if k == "Environment")
    assert env["FEDINODE_ROLE"] == "all"
    assert env["FEDINODE_CONFIG"] == "/etc/fedinode/fedinode.toml"
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert "fedinode" in scripts
    for role in ("all", "web", "worker"):
        pre, start = commands(role)
        assert pre == ["migrate"]
        args = build_parser().parse_args(start)
        assert (args.command, args.role) == ("serve", role)
    with pytest.raises(SystemExit):  # a role the CLI does not know would not start
        build_parser().parse_args(commands("primary")[1])
    # prometheus-client's multiprocess directory is the one systemd makes and empties.
    assert env["PROMETHEUS_MULTIPROC_DIR"] == f"/run/{dict(settings())['RuntimeDirectory']}"


def test_systemd_reads_the_unit_without_a_warning(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("no systemd-analyze on this machine")
    script = Path(sys.executable).parent / "fedinode"
    assert script.exists(), "the fedinode command is not installed next to this Python"
    unit = tmp_path / "fedinode.service"
    unit.write_text(re.sub(r"/opt/fedinode/venv/bin/fedinode", str(script), UNIT.read_text()))
    done = subprocess.run(
        [analyze, "verify", "--man=no", str(unit)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and not (done.stdout + done.stderr).strip(), done.stdout + done.stderr
