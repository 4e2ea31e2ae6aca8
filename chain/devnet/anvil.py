"""Find, check and run the anvil binary that backs the embedded devnet.

anvil comes from the npm package `@foundry-rs/anvil` (pinned in packaging/devtools/package.json and
installed by the set-up command). The binary is started directly, never through npx: killing an npx
wrapper leaves the anvil grandchild running.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REQUIRED_VERSION = "1.7.1"
REPO_DEVTOOLS = Path(__file__).resolve().parents[2] / "packaging" / "devtools"
BUNDLED_ANVIL = REPO_DEVTOOLS / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"
CHAIN_ID = 42161
DEV_ACCOUNTS = 60
INSTALL_HINT = (
    "install it with `npm ci --prefix packaging/devtools` (the README's set-up command does this), "
    "or point LPC_ANVIL_PATH at an anvil " + REQUIRED_VERSION + " binary"
)


class DevnetError(RuntimeError):
    """A devnet problem with a message that says what went wrong and what to do."""


class AnvilNotFound(DevnetError):
    pass


class AnvilVersionMismatch(DevnetError):
    pass


class PortInUse(DevnetError):
    pass


def find_anvil(explicit: str | os.PathLike | None = None) -> Path:
    """The anvil binary: an explicit path, then $LPC_ANVIL_PATH, then the repo's devtools, then PATH."""
    candidates: list[tuple[str, Path]] = []
    if explicit:
        candidates.append(("the configured anvil_path", Path(explicit)))
    env = os.environ.get("LPC_ANVIL_PATH")
    if env:
        candidates.append(("LPC_ANVIL_PATH", Path(env)))
    for origin, path in candidates:
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise AnvilNotFound(f"anvil not found at {path} (from {origin}); {INSTALL_HINT}")
        return _past_npm_wrapper(path, origin)
    if BUNDLED_ANVIL.is_file():
        return BUNDLED_ANVIL
    on_path = shutil.which("anvil")
    if on_path:
        return Path(on_path)
    raise AnvilNotFound(f"anvil is not installed; {INSTALL_HINT}")


def _is_node_script(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            first = f.readline(200)
    except OSError:
        return False
    return first.startswith(b"#!") and b"node" in first


def _past_npm_wrapper(path: Path, origin: str) -> Path:
    """The anvil binary behind npm's JavaScript wrapper (node_modules/.bin/anvil -> @foundry-rs/anvil/bin.mjs),
    or `path` itself. Started through the wrapper, anvil runs as a child of a node process: the pid lpc
    records (and stops) would be node's, and the real anvil could outlive it."""
    if not _is_node_script(path):
        return path
    scope = path.resolve().parent.parent  # node_modules/@foundry-rs
    for binary in sorted(scope.glob("anvil-*/bin/anvil")):
        if binary.is_file() and os.access(binary, os.X_OK) and not _is_node_script(binary):
            return binary
    raise AnvilNotFound(f"{path} (from {origin}) is npm's JavaScript wrapper for anvil, and the platform binary "
                        f"it runs was not found beside it; point {origin} at the anvil binary itself "
                        f"(…/@foundry-rs/anvil-<platform>/bin/anvil)")


def anvil_version(binary: Path) -> str:
    try:
        out = subprocess.run(
            [str(binary), "--version"], capture_output=True, text=True, timeout=20, check=False
        )
    except OSError as exc:
        raise AnvilNotFound(f"cannot run anvil at {binary}: {exc.strerror}; {INSTALL_HINT}") from None
    match = re.search(r"anvil(?: Version:)? (\d+\.\d+\.\d+)", out.stdout + out.stderr)
    if out.returncode != 0 or not match:
        raise AnvilNotFound(f"{binary} does not look like anvil (`--version` said {out.stdout.strip()[:80]!r}); {INSTALL_HINT}")
    return match.group(1)


def check_anvil(binary: Path) -> str:
    version = anvil_version(binary)
    if version.split(".")[:2] != REQUIRED_VERSION.split(".")[:2]:
        raise AnvilVersionMismatch(
            f"anvil {version} at {binary} is not the supported version {REQUIRED_VERSION}; {INSTALL_HINT}"
        )
    return version


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def port_holder(port: int) -> str | None:
    """Who listens on TCP `port` ("python3 (pid 4242)"), or None when that cannot be seen (another
    user's process without privileges, or nothing listens)."""
    import psutil

    try:
        conns = psutil.net_connections(kind="tcp")
    except (psutil.AccessDenied, OSError):
        return None
    for c in conns:
        if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port and c.pid:
            try:
                return f"{psutil.Process(c.pid).name()} (pid {c.pid})"
            except psutil.Error:
                return f"pid {c.pid}"
    return None


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def rpc_call(url: str, method: str, params: list | None = None, timeout: float = 5.0):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode()
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        payload = json.loads(resp.read())
    if "error" in payload:
        raise DevnetError(f"{method} failed: {payload['error'].get('message')}")
    return payload["result"]


@dataclass
class AnvilProcess:
    """A running anvil. `stop()` ends it and its process group."""

    pid: int
    host: str
    port: int
    log_path: Path | None
    _popen: subprocess.Popen | None = None

    @property
    def rpc_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def alive(self) -> bool:
        if self._popen is not None:
            return self._popen.poll() is None
        return pid_alive(self.pid)

    def stop(self, timeout: float = 10.0) -> None:
        stop_pid(self.pid, timeout, self._popen)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); treat it as gone.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][:1] != "Z"
    except (OSError, IndexError):
        return True


def stop_pid(pid: int, timeout: float = 10.0, popen: subprocess.Popen | None = None) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            pass
        except PermissionError:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if popen is not None:
                if popen.poll() is not None:
                    return
            elif not pid_alive(pid):
                return
            time.sleep(0.05)


def start_anvil(
    binary: Path,
    *,
    host: str = "127.0.0.1",
    port: int,
    chain_id: int = CHAIN_ID,
    block_time: float | None = None,
    load_state: Path | None = None,
    log_path: Path | None = None,
    ready_timeout: float = 20.0,
    extra_args: list[str] | None = None,
) -> AnvilProcess:
    """Start anvil and return once it answers JSON-RPC with the right chain id.

    Raises PortInUse before starting when the port is taken, and DevnetError (after killing the
    process) when anvil exits or does not become ready in time: never leaves a half-started node.
    """
    if not port_is_free(host, port):
        raise PortInUse(
            f"port {port} on {host} is already in use; stop what uses it or pick another with --port"
        )
    args = [
        str(binary),
        "--host", host,
        "--port", str(port),
        "--chain-id", str(chain_id),
        "--accounts", str(DEV_ACCOUNTS),
        "--balance", "10000",
        "--disable-code-size-limit",
        "--gas-limit", "100000000",
        "--base-fee", "10000000",  # 0.01 gwei, Arbitrum One's floor
        # Without this anvil writes the state of every block past its in-memory window to
        # ~/.foundry/anvil/tmp and leaves it there when stopped: gigabytes per seeded devnet, forever.
        # Recent blocks stay queryable in memory (the node reads the round at a just-mined block).
        "--max-persisted-states", "0",
        "--silent",
    ]
    if block_time:
        args += ["--block-time", str(block_time), "--mixed-mining"]
    if load_state is not None:
        args += ["--load-state", str(load_state)]
    args += extra_args or []
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL
    try:
        popen = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True
        )
    finally:
        if log_path:
            log.close()
    proc = AnvilProcess(pid=popen.pid, host=host, port=port, log_path=log_path, _popen=popen)
    deadline = time.monotonic() + ready_timeout
    while True:
        if popen.poll() is not None:
            tail = _log_tail(log_path)
            raise DevnetError(f"anvil exited with code {popen.returncode} while starting{tail}")
        try:
            got = int(rpc_call(proc.rpc_url, "eth_chainId", timeout=1.0), 16)
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError, DevnetError):
            got = None
        if got is not None:
            if got != chain_id:
                proc.stop()
                raise DevnetError(f"anvil answered with chain id {got}, expected {chain_id}")
            return proc
        if time.monotonic() > deadline:
            proc.stop()
            raise DevnetError(f"anvil did not answer on {proc.rpc_url} within {ready_timeout:.0f} s{_log_tail(log_path)}")
        time.sleep(0.02)


def _log_tail(log_path: Path | None) -> str:
    if not log_path or not log_path.exists():
        return ""
    lines = log_path.read_text(errors="replace").strip().splitlines()[-5:]
    return (": " + " | ".join(lines)) if lines else ""
