"""`lpc devnet` as a user runs it: real anvil processes, real CLI subprocesses, real failure paths."""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest

from chain.devnet.anvil import free_port, pid_alive, port_is_free

REPO = Path(__file__).resolve().parents[2]
LPC = [sys.executable, "-m", "console.cli"]


def lpc(data_dir: Path, *args: str, env: dict | None = None, timeout: float = 240) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    full_env.pop("LPC_DATA_DIR", None)
    return subprocess.run(
        [*LPC, "--data-dir", str(data_dir), *args], capture_output=True, text=True, cwd=REPO,
        env=full_env, timeout=timeout,
    )


def anvil_pids_on(port: int) -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if args and args[0].endswith(b"anvil") and str(port).encode() in args and pid_alive(int(proc.name)):
            pids.append(int(proc.name))
    return pids


@pytest.fixture(scope="module")
def seeded_state(tmp_path_factory) -> Path:
    """A data dir whose devnet state was built once (then copied for each test)."""
    d = tmp_path_factory.mktemp("seeded")
    port = free_port()
    out = lpc(d, "devnet", "up", "--port", str(port), "--block-time", "0", "--json")
    assert out.returncode == 0, out.stderr
    assert lpc(d, "devnet", "down").returncode == 0
    assert not anvil_pids_on(port)
    return d / "devnet"


@pytest.fixture
def data_dir(tmp_path, seeded_state) -> Path:
    """A data dir with a built devnet that has not run yet (no remembered port)."""
    d = tmp_path / "data"
    shutil.copytree(seeded_state, d / "devnet", ignore=shutil.ignore_patterns("devnet.json", "port.json", ".lock",
                                                                           "*.log"))
    yield d
    lpc(d, "devnet", "down")


def test_up_prints_one_json_line_and_second_up_reuses(data_dir):
    port = free_port()
    first = lpc(data_dir, "devnet", "up", "--port", str(port), "--block-time", "0", "--json")
    assert first.returncode == 0, first.stderr
    lines = first.stdout.strip().splitlines()
    assert len(lines) == 1
    info = json.loads(lines[0])
    assert set(info) >= {"rpc_url", "chain_id", "controller", "poll_creator"}
    assert info["chain_id"] == 42161 and info["rpc_url"] == f"http://127.0.0.1:{port}"
    pids = anvil_pids_on(port)
    assert len(pids) == 1

    second = lpc(data_dir, "devnet", "up", "--port", str(port), "--json")
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout) == info
    assert anvil_pids_on(port) == pids  # reused, not restarted

    status = lpc(data_dir, "devnet", "status", "--json")
    st = json.loads(status.stdout)
    assert st["running"] and st["controller"] == info["controller"]
    assert st["current_round"] > 10 and st["round_initialized"] is True
    assert st["l1_block"] != st["block_number"]  # the protocol's "L1" clock is not eth_blockNumber

    orchs = lpc(data_dir, "orchestrators", "--json")
    assert orchs.returncode == 0, orchs.stderr
    pool = json.loads(orchs.stdout)
    assert len(pool) == 10 and all(o["active"] for o in pool)  # the seeded active set is full
    stakes = [int(o["total_stake"]) for o in pool]
    assert stakes == sorted(stakes, reverse=True)
    # 12 orchestrators are registered: the two smallest stay outside the active set
    from web3 import Web3
    from chain.abi import abi
    from chain.client import ChainClient
    from chain.network import devnet_profile

    client = ChainClient(info["rpc_url"], devnet_profile(info["controller"], info["poll_creator"],
                                                         info["ai_service_registry"]))
    bm = client.contract("BondingManager").functions
    seeded = [Web3.to_checksum_address(a) for a in client.w3.eth.accounts[1:13]]
    assert all(bm.isRegisteredTranscoder(a).call() for a in seeded)
    assert {a for a in seeded if not bm.isActiveTranscoder(a).call()} == set(seeded) - {o["address"] for o in pool}

    down = lpc(data_dir, "devnet", "down")
    assert down.returncode == 0 and "stopped" in down.stdout
    assert not anvil_pids_on(port)


def test_down_when_nothing_runs_says_so(tmp_path):
    out = lpc(tmp_path, "devnet", "down")
    assert out.returncode == 0
    assert "no devnet is running" in out.stdout
    status = lpc(tmp_path, "devnet", "status")
    assert status.returncode == 3 and "no devnet is running" in status.stdout


def test_port_in_use_is_a_clear_error_and_leaves_nothing_running(data_dir):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        out = lpc(data_dir, "devnet", "up", "--port", str(port), "--block-time", "0")
    assert out.returncode != 0
    assert f"port {port}" in out.stderr and "in use" in out.stderr and "--port" in out.stderr
    assert "Traceback" not in out.stderr
    assert not (data_dir / "devnet" / "devnet.json").exists()
    assert not anvil_pids_on(port)


def test_missing_anvil_says_how_to_install(tmp_path):
    out = lpc(tmp_path, "devnet", "up", env={"LPC_ANVIL_PATH": str(tmp_path / "nope" / "anvil")})
    assert out.returncode != 0
    assert "anvil not found" in out.stderr and "npm ci --prefix packaging/devtools" in out.stderr
    assert "Traceback" not in out.stderr


def test_wrong_anvil_version_is_refused(tmp_path):
    fake = tmp_path / "anvil"
    fake.write_text("#!/bin/sh\necho 'anvil Version: 0.2.0'\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    out = lpc(tmp_path, "devnet", "up", env={"LPC_ANVIL_PATH": str(fake)})
    assert out.returncode != 0
    assert "anvil 0.2.0" in out.stderr and "1.7.1" in out.stderr


def test_corrupt_saved_state_is_rebuilt(data_dir):
    state = data_dir / "devnet" / "state.json"
    state.write_text('{"block": "this is not an anvil state')
    port = free_port()
    out = lpc(data_dir, "devnet", "up", "--port", str(port), "--block-time", "0", "--json")
    assert out.returncode == 0, out.stderr
    assert "could not be used" in out.stderr and "rebuilt" in out.stderr
    assert (data_dir / "devnet" / "state.json.corrupt").exists()
    assert json.loads(out.stdout)["chain_id"] == 42161
    assert len(anvil_pids_on(port)) == 1
    orchs = lpc(data_dir, "orchestrators", "--json")
    assert len(json.loads(orchs.stdout)) == 10


def test_racing_ups_start_one_devnet(data_dir):
    port = free_port()
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(
            lambda _: lpc(data_dir, "devnet", "up", "--port", str(port), "--block-time", "0", "--json"), range(2)
        ))
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results]
    assert json.loads(results[0].stdout) == json.loads(results[1].stdout)
    assert len(anvil_pids_on(port)) == 1


def test_stale_record_of_a_dead_devnet_is_replaced(data_dir):
    port = free_port()
    (data_dir / "devnet" / "devnet.json").write_text(json.dumps({
        "rpc_url": f"http://127.0.0.1:{port}", "chain_id": 42161, "controller": "0x" + "11" * 20,
        "poll_creator": "0x" + "22" * 20, "ai_service_registry": "0x" + "33" * 20,
        "multicall3": "0x" + "44" * 20, "pid": 2**22 - 3, "port": port, "started_at": 0.0,
    }))
    out = lpc(data_dir, "devnet", "up", "--port", str(port), "--block-time", "0", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["controller"] != "0x" + "11" * 20
    assert len(anvil_pids_on(port)) == 1


def test_anvil_killed_behind_our_back_is_restarted(data_dir):
    port = free_port()
    assert lpc(data_dir, "devnet", "up", "--port", str(port), "--block-time", "0").returncode == 0
    (pid,) = anvil_pids_on(port)
    os.kill(pid, 9)
    out = lpc(data_dir, "devnet", "up", "--port", str(port), "--block-time", "0", "--json")
    assert out.returncode == 0, out.stderr
    assert len(anvil_pids_on(port)) == 1 and anvil_pids_on(port) != [pid]


def test_eth_price_shows_and_sets_the_devnet_feed(data_dir, monkeypatch):
    from fractions import Fraction

    from chain.client import ChainClient
    from chain.services.price_feed import PriceFeedReader
    from core.composition import network_profile
    from core.settings import load_settings

    up = lpc(data_dir, "devnet", "up", "--port", str(free_port()), "--block-time", "0", "--json")
    assert up.returncode == 0, up.stderr
    feed = json.loads(up.stdout)["price_feed"]
    shown = lpc(data_dir, "devnet", "eth-price")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith(f"ETH/USD 3,000.00 USD (devnet feed {feed}, round 7, updated ")

    out = lpc(data_dir, "devnet", "eth-price", "2500.5", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["price"] == "2500.5" and json.loads(out.stdout)["round_id"] == 8
    # read back as lpc itself reads it: the devnet profile built from devnet.json carries the feed
    for key in [k for k in os.environ if k.startswith("LPC_")]:
        monkeypatch.delenv(key)
    profile, rpc_url = network_profile(load_settings(data_dir))
    assert profile.price_feed == feed
    assert PriceFeedReader(ChainClient(rpc_url, profile)).latest().price == Fraction(25005, 10)
    again = lpc(data_dir, "devnet", "eth-price")
    assert "ETH/USD 2,500.50 USD" in again.stdout and "round 8" in again.stdout


@pytest.mark.parametrize(("value", "words"), [
    ("abc", "'abc' is not a number"), ("0", "must be above 0"), ("12.123456789", "more than 8 decimals"),
])
def test_eth_price_refuses_a_bad_value(tmp_path, value, words):
    out = lpc(tmp_path, "devnet", "eth-price", value)
    assert out.returncode == 2
    assert "Invalid value for '[PRICE]'" in out.stderr and words in out.stderr
    assert "Traceback" not in out.stderr


def test_eth_price_without_a_running_devnet_says_to_start_it(tmp_path):
    out = lpc(tmp_path, "devnet", "eth-price", "2500")
    assert out.returncode == 1
    assert "no devnet is running" in out.stderr and "lpc devnet up" in out.stderr


# ------------------------------------------------------------------------------- the devnet's port


@contextmanager
def holding(port: int):
    """A real listener on 127.0.0.1:`port` (this process), or, when another program already holds the
    port, that program: either way the port is taken while the block runs. Yields our pid or None."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past the TIME_WAIT of a stopped anvil
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            assert not port_is_free("127.0.0.1", port)
            yield None
            return
        s.listen()
        yield os.getpid()


def test_a_new_data_dir_takes_a_free_port_when_8545_is_held_and_keeps_it(tmp_path):
    d = tmp_path / "fresh"
    with holding(8545) as holder:
        first = lpc(d, "devnet", "up", "--block-time", "0", "--json")
        assert first.returncode == 0, first.stderr
        port = int(json.loads(first.stdout)["rpc_url"].rsplit(":", 1)[1])
        assert port != 8545 and len(anvil_pids_on(port)) == 1
        assert f"port 8545 is held by" in first.stderr and f"listens on port {port}" in first.stderr
        if holder:
            assert f"(pid {holder})" in first.stderr
        assert lpc(d, "devnet", "down").returncode == 0
    # later runs agree on it, whether or not 8545 is free now
    again = lpc(d, "devnet", "up", "--block-time", "0", "--json")
    try:
        assert again.returncode == 0, again.stderr
        assert json.loads(again.stdout)["rpc_url"] == f"http://127.0.0.1:{port}"
        assert "note:" not in again.stderr
        orchs = lpc(d, "orchestrators", "--json")  # the rest of lpc finds the devnet where it is
        assert orchs.returncode == 0 and len(json.loads(orchs.stdout)) == 10
    finally:
        lpc(d, "devnet", "down")
    assert not anvil_pids_on(port)


def test_an_existing_devnet_keeps_its_port_and_says_what_holds_it(data_dir):
    port = free_port()
    assert lpc(data_dir, "devnet", "up", "--port", str(port), "--block-time", "0").returncode == 0
    assert lpc(data_dir, "devnet", "down").returncode == 0
    before = sorted(p.name for p in (data_dir / "devnet").iterdir())
    with holding(port) as holder:
        for args in (["devnet", "up", "--block-time", "0"], []):  # `lpc devnet up`, and `lpc` itself
            out = lpc(data_dir, *args)
            assert out.returncode == 1, out.stderr
            assert f"port {port}, where the devnet of {data_dir} runs, is held by" in out.stderr
            assert "lpc devnet up --port PORT" in out.stderr and "Traceback" not in out.stderr
            if holder:
                assert f"(pid {holder})" in out.stderr
    assert not anvil_pids_on(port)
    assert sorted(p.name for p in (data_dir / "devnet").iterdir()) == before  # no devnet.json, no new port


def test_a_devnet_built_before_ports_were_remembered_stays_on_8545(data_dir):
    assert not (data_dir / "devnet" / "port.json").exists()
    with holding(8545):
        out = lpc(data_dir, "devnet", "up", "--block-time", "0")
    assert out.returncode == 1
    assert "port 8545, where the devnet of" in out.stderr and "is held by" in out.stderr
    assert not (data_dir / "devnet" / "devnet.json").exists()


def test_a_network_of_another_size_is_deployed_and_seeded_from_scratch(data_dir):
    """The packaged seeded state is for the default network; another orchestrator count is deployed and
    seeded on this machine (the path a corrupt state took before the packaged state was tried first). Fewer
    than the seed needs is refused in one line, before anything starts."""
    too_few = lpc(data_dir, "devnet", "up", "--json", env={"LPC_DEVNET__ORCHESTRATORS": "2"})
    assert too_few.returncode != 0 and "Traceback" not in too_few.stderr
    assert "orchestrators" in too_few.stderr and "6" in too_few.stderr, too_few.stderr
    port = free_port()
    env = {"LPC_DEVNET__ORCHESTRATORS": "6"}
    out = lpc(data_dir, "devnet", "up", "--port", str(port), "--block-time", "0", "--json", env=env)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["chain_id"] == 42161
    assert json.loads((data_dir / "devnet" / "deployment.json").read_text())["orchestrators"] == 6
    orchs = lpc(data_dir, "orchestrators", "--json", env=env)
    assert len(json.loads(orchs.stdout)) == 6
