"""Helpers of the suite's own tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args: str, timeout: float = 900, cwd: Path = ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hfcourse.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


def run_grade(*args: str, timeout: float = 900, env: dict | None = None) -> tuple[subprocess.CompletedProcess, dict | None]:
    """Run ``hfcourse grade … --format json`` in a subprocess (served by a check server where ``env``
    names one, see the ``grading_server`` fixture); return the process and the report."""
    fd, name = tempfile.mkstemp(prefix="hfcourse-test-", suffix=".json")
    os.close(fd)
    out = Path(name)
    out.unlink()
    try:
        proc = run_cli("grade", *args, "--format", "json", "--out", str(out), timeout=timeout, env=env)
        report = json.loads(out.read_text()) if out.exists() else None
    finally:
        out.unlink(missing_ok=True)
    return proc, report


def interruptible() -> None:
    """``preexec_fn`` of a subprocess a test stops with SIGINT: restore the default disposition,
    which a test run started in the background (``nohup``, ``&``) passes on as "ignored", so that
    Python in the child turns SIGINT into KeyboardInterrupt."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)
