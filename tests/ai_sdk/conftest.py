"""Two real `lpc node` processes started the way a user starts them, once per test session, and the SDK
venv that drives them:

    SDK client process (.venv-ai-sdk)  --HTTP-->  lpc node -gateway  --HTTPS-->  lpc node -orchestrator -aiWorker
                                                  (-httpAddr: the AI API)         (bundled models, offchain)

The orchestrator serves the bundled models (no -aiModels: every pipeline with a bundled model, warm) and
an empty -aiModelsDir, so every other pipeline is weightless. The fixture waits (bounded) until the
orchestrator's /status shows no model still loading and the gateway answers /healthz; the models load
once for the whole session.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from chain.devnet.anvil import free_port
from tests.ai_sdk.sdk_venv import SdkUnavailable, ensure_sdk_venv, run_sdk
from tests.waiting import wait_for

REPO = Path(__file__).resolve().parents[2]
READY_TIMEOUT_S = 240  # the first SmolLM2 load de-quantises the GGUF (~24 s) before its fp32 cache exists


def _env() -> dict:
    """The user's environment without LPC_* settings (they would reconfigure the nodes), keeping the
    derived-model cache location so the de-quantised SmolLM2 is made once per machine, not per run."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LPC_") or k == "LPC_AI_CACHE"}
    env["PYTHONPATH"] = str(REPO)
    env.pop("NO_COLOR", None)
    return env


@dataclass
class LpcProcess:
    """One `lpc node …` process with its output in a log file."""

    name: str
    args: list[str]
    data_dir: Path
    log_path: Path = field(init=False)
    proc: subprocess.Popen = field(init=False)

    def __post_init__(self) -> None:
        self.log_path = self.data_dir.parent / f"{self.name}.log"
        self._log = open(self.log_path, "w+b")
        self.proc = subprocess.Popen([sys.executable, "-m", "console.cli", "--data-dir", str(self.data_dir),
                                      "node", *self.args], cwd=REPO, env=_env(), stdout=self._log,
                                     stderr=subprocess.STDOUT)

    def log(self, tail: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-tail:]

    def alive(self) -> None:
        assert self.proc.poll() is None, f"{self.name} exited with {self.proc.returncode}:\n{self.log()}"

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()
        return self.proc.returncode


@dataclass
class AINodes:
    orchestrator: LpcProcess
    gateway: LpcProcess
    service_port: int
    orch_cli_port: int
    gateway_http_port: int
    gateway_cli_port: int

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_http_port}"

    def orch_status(self) -> dict:
        return httpx.get(f"http://127.0.0.1:{self.orch_cli_port}/status", timeout=5).json()

    def models(self) -> list[dict]:
        """The orchestrator's AI models as its /status lists them (ModelView fields)."""
        return _model_rows(self.orch_status())

    def logs(self) -> str:
        return (f"--- orchestrator log ---\n{self.orchestrator.log()}\n"
                f"--- gateway log ---\n{self.gateway.log()}")


def _model_rows(node: object) -> list[dict]:
    """Every dict with `pipeline`, `model_id` and `state` anywhere in a /status body: the AI models,
    wherever the orchestrator's /status nests them."""
    rows: list[dict] = []
    if isinstance(node, dict):
        if {"pipeline", "model_id", "state"} <= node.keys():
            return [node]
        for value in node.values():
            rows += _model_rows(value)
    elif isinstance(node, list):
        for value in node:
            rows += _model_rows(value)
    return rows


def _up(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="session")
def sdk_python() -> Path:
    # one process at a time makes the venv: the two files here may run on two pytest-xdist workers at once
    import hashlib
    import tempfile

    from filelock import FileLock

    from tests.ai_sdk.sdk_venv import SDK_VENV

    lock = Path(tempfile.gettempdir()) / f"lpc-ai-sdk-venv-{hashlib.sha256(str(SDK_VENV).encode()).hexdigest()[:12]}.lock"
    try:
        with FileLock(str(lock), timeout=900):
            return ensure_sdk_venv()
    except SdkUnavailable as e:
        pytest.skip(str(e))


@contextmanager
def started_ai_nodes(root: Path, ready_timeout: float = READY_TIMEOUT_S) -> Iterator[AINodes]:
    """The orchestrator (bundled models, an empty -aiModelsDir under `root`) and a gateway in front of it,
    both up and the models loaded; both stopped on exit, and each must exit 0."""
    models_dir = root / "models"  # empty: every pipeline without a bundled model is weightless
    models_dir.mkdir(parents=True, exist_ok=True)
    service, orch_cli = free_port(), free_port()
    orchestrator = LpcProcess("orchestrator", [
        "-orchestrator", "-aiWorker", "-network", "offchain", "-serviceAddr", f"127.0.0.1:{service}",
        "-httpAddr", f"127.0.0.1:{service}", "-cliAddr", f"127.0.0.1:{orch_cli}", "-aiModelsDir", str(models_dir)],
        root / "orch-data")  # -httpAddr: bind loopback only (the default is every interface)
    gateway = None
    try:
        def orchestrator_ready():
            orchestrator.alive()
            try:
                rows = _model_rows(httpx.get(f"http://127.0.0.1:{orch_cli}/status", timeout=2).json())
            except (httpx.HTTPError, ValueError):
                return False
            return bool(rows) and not any(r["state"] == "loading" for r in rows)

        wait_for(orchestrator_ready, timeout=ready_timeout, interval=0.5,
                 what=lambda: f"the orchestrator's AI models loaded:\n{orchestrator.log()}")
        http, gw_cli, rtmp = free_port(), free_port(), free_port()
        gateway = LpcProcess("gateway", [
            "-gateway", "-network", "offchain", "-orchAddr", f"127.0.0.1:{service}",
            "-httpAddr", f"127.0.0.1:{http}", "-cliAddr", f"127.0.0.1:{gw_cli}",
            "-rtmpAddr", f"127.0.0.1:{rtmp}"], root / "gateway-data")

        def gateway_ready():
            gateway.alive()
            return _up(f"http://127.0.0.1:{http}/healthz")

        wait_for(gateway_ready, timeout=60, interval=0.2, what=lambda: f"the gateway's /healthz:\n{gateway.log()}")
        yield AINodes(orchestrator, gateway, service, orch_cli, http, gw_cli)
    finally:
        codes = {p.name: p.stop() for p in (gateway, orchestrator) if p is not None}
    assert codes == {"gateway": 0, "orchestrator": 0}, f"exit codes {codes}"


@pytest.fixture(scope="session")
def ai_nodes(tmp_path_factory) -> Iterator[AINodes]:
    with started_ai_nodes(tmp_path_factory.mktemp("ai_sdk")) as nodes:
        yield nodes


@pytest.fixture(scope="session")
def sdk(sdk_python, ai_nodes):
    """sdk(jobs) -> results, one SDK client process per call (see sdk_client.py for the job shape)."""
    def call(*jobs: dict, timeout_ms: int = 120_000) -> list[dict]:
        return run_sdk(sdk_python, ai_nodes.gateway_url, list(jobs), timeout_ms=timeout_ms)
    return call
