"""The embedded devnet of one data dir: `up`, `status`, `down`, `reset`.

Layout under `<data dir>/devnet/`:
- `state.json`     anvil's saved chain state after deploying and seeding (loaded on every start)
- `deployment.json` the addresses in that state, and the digest of the contracts it was built from
- `devnet.json`    the running node (pid, port, addresses); absent when nothing runs
- `port.json`      the port this data dir's devnet listens on, kept across runs (so tools pointed at it
                   keep working); a new data dir takes 8545, or a free port when another program has 8545
- `anvil.log`      anvil's own output
- `.lock`          serialises concurrent `up`/`down` calls for the data dir

A start never leaves a half-started devnet behind: if anything fails after anvil was spawned, anvil is
stopped before the error is raised.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

# filelock is imported where the lock is taken: `lpc` reusing a running devnet never takes it (see `up`)

from chain.devnet.anvil import (
    CHAIN_ID,
    AnvilProcess,
    DevnetError,
    PortInUse,
    check_anvil,
    find_anvil,
    free_port,
    pid_alive,
    port_holder,
    port_is_free,
    rpc_call,
    start_anvil,
    stop_pid,
)
from chain.devnet.artifacts import artifacts_digest

if TYPE_CHECKING:
    from filelock import FileLock
    from web3 import Web3

    from chain.devnet.deploy import Deployment

Progress = Callable[[str, float], None]  # (message, fraction done 0..1)
DEFAULT_PORT = 8545  # anvil's default JSON-RPC port, and what wallets and scripts expect
HOST = "127.0.0.1"
SEED_FORMAT = 3  # bump when the seeded network changes shape
PACKAGED_STATE = Path(__file__).resolve().parent / "state" / "seed-state.json.gz"
PACKAGED_DEPLOYMENT = Path(__file__).resolve().parent / "state" / "seed-deployment.json"


def _noop(_msg: str, _frac: float) -> None:
    pass


@dataclass(frozen=True)
class DevnetInfo:
    rpc_url: str
    chain_id: int
    controller: str
    poll_creator: str
    ai_service_registry: str
    multicall3: str
    pid: int
    port: int
    started_at: float
    reused: bool = False
    rebuilt_reason: str | None = None
    price_feed: str | None = None  # the ETH/USD feed (None in a devnet.json written before it existed)
    port_note: str | None = None  # why the devnet is not on the port one might expect (a new data dir)

    def public_json(self) -> dict:
        """The one-line summary `lpc devnet up --json` prints."""
        return {
            "rpc_url": self.rpc_url,
            "chain_id": self.chain_id,
            "controller": self.controller,
            "poll_creator": self.poll_creator,
            "ai_service_registry": self.ai_service_registry,
            "price_feed": self.price_feed,
        }


@dataclass(frozen=True)
class DevnetStatus:
    running: bool
    info: DevnetInfo | None
    block_number: int | None = None
    l1_block: int | None = None
    current_round: int | None = None
    round_initialized: bool | None = None
    message: str = ""


class _UnusableState(Exception):
    pass


class Devnet:
    def __init__(self, data_dir: Path, *, anvil_path: str | None = None, seed_orchestrators: int = 12):
        self.root = Path(data_dir) / "devnet"
        self.anvil_path = anvil_path
        self.seed_orchestrators = seed_orchestrators

    # -- paths -------------------------------------------------------------------------------
    @property
    def state_file(self) -> Path:
        return self.root / "state.json"

    @property
    def deployment_file(self) -> Path:
        return self.root / "deployment.json"

    @property
    def running_file(self) -> Path:
        return self.root / "devnet.json"

    @property
    def port_file(self) -> Path:
        return self.root / "port.json"

    @property
    def log_file(self) -> Path:
        return self.root / "anvil.log"

    def _lock(self, timeout: float = 120.0) -> FileLock:
        from filelock import FileLock

        self.root.mkdir(parents=True, exist_ok=True)
        return FileLock(str(self.root / ".lock"), timeout=timeout)

    # -- public operations -------------------------------------------------------------------
    def up(self, *, port: int | None = None, block_time: float = 10.0, progress: Progress = _noop,
           mainnet_addresses: bool = False) -> DevnetInfo:
        """Start (or reuse) the devnet. `port` None is this data dir's port (see `remembered_port`); a
        port that is given is used or refused, and remembered once the devnet runs on it. With
        `mainnet_addresses`, its Controller, PollCreator, AI registry and price feed are moved to their
        Arbitrum One addresses (see chain/devnet/mainnet_layout.py).

        A devnet that is running and answering is reused without the lock (nothing is written then); the
        lock is taken to clean up a stale record or to start one. `lpc` starts this way every time after
        the first, and the console's first frame waits for it."""
        if not mainnet_addresses:
            running = self._answering()
            if running is not None:
                if port is not None and running.port != port:
                    progress(f"devnet already running on port {running.port}; reusing it", 1.0)
                return DevnetInfo(**{**asdict(running), "reused": True})
        from filelock import Timeout

        try:
            with self._lock():
                running = self._running_info()
                if running is not None:
                    if port is not None and running.port != port:
                        progress(f"devnet already running on port {running.port}; reusing it", 1.0)
                    info = DevnetInfo(**{**asdict(running), "reused": True})
                else:
                    info = self._start(port=port, block_time=block_time, progress=progress)
                if mainnet_addresses:
                    info = self._place_at_mainnet_addresses(info, progress)
                return info
        except Timeout:
            raise DevnetError(
                f"another lpc is starting or stopping the devnet in {self.root}; wait for it and try again"
            ) from None

    def status(self) -> DevnetStatus:
        info = self._running_info()
        if info is None:
            return DevnetStatus(running=False, info=None, message=f"no devnet is running for {self.root.parent}")
        try:
            from web3 import Web3  # here, not at import: `lpc` reuses a running devnet without web3
            w3 = Web3(Web3.HTTPProvider(info.rpc_url, request_kwargs={"timeout": 5}))
            rounds = _rounds_contract(w3, info.controller)
            return DevnetStatus(
                running=True,
                info=info,
                block_number=w3.eth.block_number,
                l1_block=rounds.functions.blockNum().call(),
                current_round=rounds.functions.currentRound().call(),
                round_initialized=rounds.functions.currentRoundInitialized().call(),
                message="running",
            )
        except Exception as exc:  # noqa: BLE001 - report, don't crash, on an unhealthy node
            return DevnetStatus(running=True, info=info, message=f"running but not answering: {exc}")

    def down(self) -> str:
        from filelock import Timeout

        try:
            with self._lock():
                info = self._read_running_file()
                if info is None:
                    return f"no devnet is running for {self.root.parent}; nothing to stop"
                if _is_our_anvil(info.pid, info.port):
                    stop_pid(info.pid)
                self.running_file.unlink(missing_ok=True)
                return f"devnet stopped (anvil pid {info.pid} on port {info.port})"
        except Timeout:
            raise DevnetError(f"another lpc is starting or stopping the devnet in {self.root}; try again") from None

    def reset(self, *, port: int | None = None, block_time: float = 10.0, progress: Progress = _noop) -> DevnetInfo | None:
        """Forget all devnet history (stop it, delete the saved state); restart it if it was running."""
        was_running = self._running_info() is not None
        self.down()
        with self._lock():
            for f in (self.state_file, self.deployment_file):
                f.unlink(missing_ok=True)
        if was_running:
            return self.up(port=port, block_time=block_time, progress=progress)
        return None

    # -- internals ---------------------------------------------------------------------------
    def _place_at_mainnet_addresses(self, info: DevnetInfo, progress: Progress) -> DevnetInfo:
        from chain.devnet.mainnet_layout import place_at_mainnet_addresses
        from chain.network import ARBITRUM_ONE

        if info.controller.lower() == ARBITRUM_ONE.controller.lower():
            return info
        progress("moving the Controller, PollCreator, AI registry and price feed to their Arbitrum One addresses",
                 0.99)
        from web3 import Web3  # here, not at import: `lpc` reuses a running devnet without web3
        w3 = Web3(Web3.HTTPProvider(info.rpc_url, request_kwargs={"timeout": 60}))
        from chain.devnet.deploy import Deployment
        current = Deployment(controller=info.controller, contracts={}, poll_creator=info.poll_creator,
                             ai_service_registry=info.ai_service_registry, multicall3=info.multicall3,
                             price_feed=info.price_feed)
        moved = place_at_mainnet_addresses(w3, current)
        info = DevnetInfo(**{**asdict(info), "controller": moved.controller, "poll_creator": moved.poll_creator,
                             "ai_service_registry": moved.ai_service_registry, "price_feed": moved.price_feed})
        _atomic_write(self.running_file, json.dumps({**asdict(info), "reused": False}))
        return info

    def _read_running_file(self) -> DevnetInfo | None:
        try:
            data = json.loads(self.running_file.read_text())
            return DevnetInfo(**data)
        except FileNotFoundError:
            return None
        except (ValueError, TypeError):
            self.running_file.unlink(missing_ok=True)
            return None

    def _answering(self) -> DevnetInfo | None:
        """The devnet devnet.json names, when it is our anvil on its port and answers with its chain id;
        else None. Read-only: a stale or broken record is left for `_running_info`, under the lock."""
        try:
            info = DevnetInfo(**json.loads(self.running_file.read_text()))
        except (OSError, ValueError, TypeError):
            return None
        if not _is_our_anvil(info.pid, info.port):
            return None
        try:
            answered = int(rpc_call(info.rpc_url, "eth_chainId", timeout=3), 16) == info.chain_id
        except Exception:  # noqa: BLE001 - hung or dying: `up` decides under the lock
            return None
        return info if answered else None

    def _running_info(self) -> DevnetInfo | None:
        """The running devnet, after checking it is alive and answering; clears stale records."""
        info = self._read_running_file()
        if info is None:
            return None
        if not _is_our_anvil(info.pid, info.port):
            self.running_file.unlink(missing_ok=True)
            return None
        try:
            chain_id = int(rpc_call(info.rpc_url, "eth_chainId", timeout=3), 16)
        except Exception:  # noqa: BLE001 - a hung or dying node is restarted below
            chain_id = None
        if chain_id != info.chain_id:
            stop_pid(info.pid)
            self.running_file.unlink(missing_ok=True)
            return None
        return info

    def remembered_port(self) -> int | None:
        """The port this data dir's devnet ran on last; DEFAULT_PORT for a devnet built before ports were
        remembered; None for a data dir that never had a devnet."""
        try:
            port = json.loads(self.port_file.read_text())["port"]
            if isinstance(port, int) and 0 < port < 65536:
                return port
        except (FileNotFoundError, ValueError, KeyError, TypeError):
            pass
        return DEFAULT_PORT if self.state_file.exists() else None

    def _choose_port(self, requested: int | None) -> tuple[int, str | None]:
        """(port, note): the port asked for, else the remembered one, else for a new data dir 8545 or,
        when another program holds it, a free port (the note says so). A port that is taken is refused
        with what holds it."""
        port = requested or self.remembered_port()
        if port is None:
            if port_is_free(HOST, DEFAULT_PORT):
                return DEFAULT_PORT, None
            port = free_port(HOST)
            holder = port_holder(DEFAULT_PORT)
            return port, (f"port {DEFAULT_PORT} is held by {holder or 'another program'}, so this data dir's "
                          f"devnet listens on port {port} (remembered in {self.port_file})")
        if not port_is_free(HOST, port):
            holder = port_holder(port) or "another program"
            if requested is not None:
                raise PortInUse(f"port {port} on {HOST} is already in use (held by {holder}); stop it or "
                                "pick another with `lpc devnet up --port PORT`")
            raise PortInUse(
                f"port {port}, where the devnet of {self.root.parent} runs, is held by {holder}; stop that "
                f"program, or move this devnet with `lpc devnet up --port PORT` (the new port is remembered)")
        return port, None

    def _start(self, *, port: int | None, block_time: float, progress: Progress) -> DevnetInfo:
        binary = find_anvil(self.anvil_path)
        check_anvil(binary)
        port, port_note = self._choose_port(port)
        info = self._start_on(binary, port, block_time, progress)
        _atomic_write(self.port_file, json.dumps({"port": port}))
        if port_note:
            info = DevnetInfo(**{**asdict(info), "port_note": port_note})
        return info

    def _start_on(self, binary, port: int, block_time: float, progress: Progress) -> DevnetInfo:
        rebuilt_reason = None
        saved = self._usable_state()
        state = saved or self._install_packaged_state()
        if state is not None:
            try:
                return self._start_from_state(binary, port, block_time, state, None, progress)
            except _UnusableState as exc:
                rebuilt_reason = f"the saved devnet state could not be used ({exc}); rebuilt it"
                self._quarantine_state()
            # a damaged saved state: start again from the seeded state shipped with lpc (seconds), and
            # deploy and seed from scratch (minutes) only when that does not match or load either
            packaged = self._install_packaged_state() if saved is not None else None
            if packaged is not None:
                try:
                    return self._start_from_state(binary, port, block_time, packaged,
                                                  f"{rebuilt_reason} from the seeded state shipped with lpc", progress)
                except _UnusableState:  # our own copy: drop it (the user's damaged files stay as *.corrupt)
                    for f in (self.state_file, self.deployment_file):
                        f.unlink(missing_ok=True)
        progress("building the devnet: deploying contracts and seeding a network", 0.02)
        proc = start_anvil(binary, port=port, log_path=self.log_file)
        try:
            deployment = self._build(proc, progress)
            progress("saving the devnet state", 0.95)
            self._save_state(proc, deployment)
        finally:
            proc.stop()
        try:
            return self._start_from_state(binary, port, block_time, deployment, rebuilt_reason, progress)
        except _UnusableState as exc:
            raise DevnetError(f"the freshly built devnet state does not load: {exc}") from None

    def _start_from_state(
        self, binary, port: int, block_time: float, state: Deployment, rebuilt_reason: str | None, progress: Progress
    ) -> DevnetInfo:
        progress("starting anvil from the saved devnet state", 0.97)
        try:
            proc = start_anvil(
                binary, port=port, block_time=block_time or None, load_state=self.state_file, log_path=self.log_file
            )
        except PortInUse:
            raise
        except DevnetError as exc:
            raise _UnusableState(str(exc)) from None
        try:
            self._verify(proc, state)
        except Exception as exc:  # noqa: BLE001 - any failure here means the state is bad
            proc.stop()
            raise _UnusableState(str(exc)) from None
        try:
            _freshen_price_feed(proc.rpc_url, state)
        except Exception as exc:  # noqa: BLE001 - a stale devnet price is a warning on the node, not a failure
            progress(f"the devnet price feed was not refreshed ({exc})", 0.99)
        progress("devnet ready", 1.0)
        return self._record(proc, state, rebuilt_reason)

    def _build(self, proc: AnvilProcess, progress: Progress) -> Deployment:
        from chain.devnet.seed import seed_network  # heavy: only when (re)building

        return seed_network(proc.rpc_url, orchestrators=self.seed_orchestrators, progress=progress)

    def _usable_state(self) -> Deployment | None:
        if not (self.state_file.exists() and self.deployment_file.exists()):
            return None
        try:
            meta = json.loads(self.deployment_file.read_text())
        except ValueError:
            self._quarantine_state()
            return None
        if meta.get("artifacts") != artifacts_digest() or meta.get("seed_format") != SEED_FORMAT or meta.get(
            "orchestrators"
        ) != self.seed_orchestrators:
            return None  # built from other contracts or another seed: rebuild
        from chain.devnet.deploy import Deployment
        return Deployment.from_json(meta["deployment"])

    def _install_packaged_state(self) -> Deployment | None:
        """A fresh data dir starts from the seeded state shipped with the package, when it matches."""
        if not (PACKAGED_STATE.exists() and PACKAGED_DEPLOYMENT.exists()):
            return None
        meta = json.loads(PACKAGED_DEPLOYMENT.read_text())
        if (
            meta.get("artifacts") != artifacts_digest()
            or meta.get("seed_format") != SEED_FORMAT
            or meta.get("orchestrators") != self.seed_orchestrators
        ):
            return None
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_bytes(gzip.decompress(PACKAGED_STATE.read_bytes()))
        tmp.replace(self.state_file)
        _atomic_write(self.deployment_file, json.dumps(meta, indent=1))
        from chain.devnet.deploy import Deployment
        return Deployment.from_json(meta["deployment"])

    def _quarantine_state(self) -> None:
        for f in (self.state_file, self.deployment_file):
            if f.exists():
                f.replace(f.with_name(f.name + ".corrupt"))

    def _verify(self, proc: AnvilProcess, deployment: Deployment) -> None:
        from web3 import Web3  # here, not at import: `lpc` reuses a running devnet without web3
        w3 = Web3(Web3.HTTPProvider(proc.rpc_url, request_kwargs={"timeout": 10}))
        if not w3.eth.get_code(deployment.controller):
            raise DevnetError("no Controller code at the saved address")
        rounds = _rounds_contract(w3, deployment.controller)
        if rounds.address != deployment.contracts.get("RoundsManager"):
            raise DevnetError("the Controller does not resolve the saved RoundsManager")
        rounds.functions.currentRound().call()
        if deployment.price_feed and not w3.eth.get_code(deployment.price_feed):
            raise DevnetError("no price feed code at the saved address")

    def _save_state(self, proc: AnvilProcess, deployment: Deployment) -> None:
        dumped = rpc_call(proc.rpc_url, "anvil_dumpState", timeout=120)
        raw = gzip.decompress(bytes.fromhex(dumped[2:]))
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_bytes(raw)
        tmp.replace(self.state_file)
        _atomic_write(self.deployment_file, json.dumps(state_meta(deployment, self.seed_orchestrators), indent=1))

    def _record(self, proc: AnvilProcess, deployment: Deployment, rebuilt_reason: str | None) -> DevnetInfo:
        info = DevnetInfo(
            rpc_url=proc.rpc_url,
            chain_id=CHAIN_ID,
            controller=deployment.controller,
            poll_creator=deployment.poll_creator,
            ai_service_registry=deployment.ai_service_registry,
            multicall3=deployment.multicall3,
            pid=proc.pid,
            port=proc.port,
            started_at=time.time(),
            rebuilt_reason=rebuilt_reason,
            price_feed=deployment.price_feed,
        )
        _atomic_write(self.running_file, json.dumps(asdict(info)))
        return info

    def deployment(self) -> Deployment | None:
        """The addresses of the saved devnet (whether or not it runs)."""
        try:
            from chain.devnet.deploy import Deployment
            return Deployment.from_json(json.loads(self.deployment_file.read_text())["deployment"])
        except (FileNotFoundError, ValueError, KeyError):
            return None


def state_meta(deployment: Deployment, orchestrators: int) -> dict:
    return {
        "artifacts": artifacts_digest(),
        "seed_format": SEED_FORMAT,
        "orchestrators": orchestrators,
        "deployment": deployment.to_json(),
    }


def _rounds_contract(w3: Web3, controller: str):
    from chain.devnet.artifacts import load_artifact
    from chain.devnet.deploy import contract_id

    ctrl = w3.eth.contract(address=controller, abi=load_artifact("Controller").abi)
    addr = ctrl.functions.getContract(contract_id("RoundsManager")).call()
    return w3.eth.contract(address=addr, abi=load_artifact("RoundsManager").abi)


def _is_our_anvil(pid: int, port: int) -> bool:
    """True when `pid` is alive and is an anvil serving `port` (not a recycled pid)."""
    if not pid_alive(pid):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return True  # no /proc (macOS): trust the pid
    args = [a.decode(errors="replace") for a in cmdline]
    return any(Path(a).name == "anvil" for a in args[:1]) and str(port) in args


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    tmp.write_text(text)
    tmp.replace(path)


def remove_devnet_dir(data_dir: Path) -> None:
    shutil.rmtree(Path(data_dir) / "devnet", ignore_errors=True)


FEED_FRESH_S = 3600  # right after a start the feed's answer is at most this old (it is re-posted)


def _freshen_price_feed(rpc_url: str, deployment: Deployment) -> None:
    """A saved state's feed answer is as old as the state (the packaged one: weeks). A real Chainlink feed
    re-posts at least every heartbeat, so the devnet's deployer re-posts the last answer whenever the
    devnet starts from a saved state (always, so that a fresh devnet is the same block for block whatever
    the state's age); otherwise every node pricing in USD on the devnet would warn of a stale feed."""
    if not deployment.price_feed:
        return
    from chain.devnet.accounts import dev_account
    from chain.devnet.artifacts import load_artifact
    from chain.devnet.price_feed import DEPLOYER_INDEX, post_answer

    if deployment.deployer and deployment.deployer.lower() != dev_account(DEPLOYER_INDEX).address.lower():
        return  # not deployed by the public development account: nothing we may sign for
    from web3 import Web3  # here, not at import: `lpc` reuses a running devnet without web3
    w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": 10}))
    feed = w3.eth.contract(address=deployment.price_feed, abi=load_artifact("EthUsdPriceFeed").abi)
    answer = feed.functions.latestRoundData().call()[1]
    if answer > 0:
        post_answer(w3, deployment.price_feed, answer)
