"""The official `livepeer-ai` SDK in its own venv (REPO/.venv-ai-sdk), and a way to run it as a separate
client process against a gateway.

The SDK is a Speakeasy-generated package with its own pins (httpx, pydantic); installing it into the
project's venv could move those under lpc, so it lives beside it, as tests/node/test_sdk_gateway.py keeps
livepeer-gateway in .venv-sdk. The venv is made with python3.11 once and reused while the installed
version is the pinned one; a different version is reinstalled in place.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SDK_VERSION = "0.10.0"
SDK_VENV = REPO / ".venv-ai-sdk"
SDK_PYTHON = SDK_VENV / "bin" / "python"
CLIENT = Path(__file__).with_name("sdk_client.py")

_VERSION_PROBE = "import importlib.metadata as m; print(m.version('livepeer-ai'))"


class SdkUnavailable(RuntimeError):
    """The SDK venv could not be made (no python3.11, or pip could not reach the package index)."""


def installed_version(python: Path = SDK_PYTHON) -> str | None:
    if not python.exists():
        return None
    probe = subprocess.run([str(python), "-c", _VERSION_PROBE], capture_output=True, text=True)
    return probe.stdout.strip() if probe.returncode == 0 else None


def ensure_sdk_venv(venv: Path = SDK_VENV, version: str = SDK_VERSION) -> Path:
    """The venv's python with livepeer-ai==`version` importable; made or repaired when needed, under a file
    lock, so two pytest-xdist workers (or two runs in one checkout) never build it at once."""
    from filelock import FileLock

    python = venv / "bin" / "python"
    if installed_version(python) == version:
        return python
    with FileLock(str(venv) + ".lock", timeout=600):
        return _make_sdk_venv(venv, version)


def _make_sdk_venv(venv: Path, version: str) -> Path:
    python = venv / "bin" / "python"
    if installed_version(python) == version:  # another process made it while this one waited
        return python
    if not python.exists():
        base = shutil.which("python3.11")
        if base is None:
            raise SdkUnavailable("no python3.11 on PATH: the SDK venv is made with `python3.11 -m venv`")
        made = subprocess.run([base, "-m", "venv", str(venv)], capture_output=True, text=True)
        if made.returncode != 0:
            shutil.rmtree(venv, ignore_errors=True)
            raise SdkUnavailable(f"{base} -m venv {venv} failed: {made.stderr.strip()[-400:]}")
    pip = subprocess.run([str(python), "-m", "pip", "install", "-q", f"livepeer-ai=={version}"],
                         capture_output=True, text=True, timeout=300)
    if pip.returncode != 0 or installed_version(python) != version:
        raise SdkUnavailable(f"pip install livepeer-ai=={version} failed: {pip.stderr.strip()[-400:]}")
    return python


def run_sdk(python: Path, server_url: str, jobs: list[dict], *, timeout_ms: int = 120_000,
            timeout_s: float = 300) -> list[dict]:
    """Run `jobs` (see sdk_client.py) in one SDK client process; one result dict per job, in order."""
    payload = json.dumps({"server_url": server_url, "timeout_ms": timeout_ms, "jobs": jobs})
    out = subprocess.run([str(python), str(CLIENT)], input=payload, capture_output=True, text=True,
                         timeout=timeout_s)
    if out.returncode != 0:
        raise RuntimeError(f"the SDK client failed (exit {out.returncode}): {out.stderr[-3000:]}")
    results = json.loads(out.stdout.strip().splitlines()[-1])["results"]
    assert len(results) == len(jobs), out.stdout[-2000:]
    return results
