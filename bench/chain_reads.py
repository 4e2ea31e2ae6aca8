"""Chain reads: time and JSON-RPC round trips to load the full orchestrator pool and an account
overview, batched (chain/reads.py) side by side with the naive one-call-per-field way, in one run.

    .venv/bin/python bench/chain_reads.py                   # pool of 100 on a temporary devnet
    .venv/bin/python bench/chain_reads.py --latency-ms 80   # as over a public RPC (~80 ms per round trip)
    .venv/bin/python bench/chain_reads.py --pool 12         # the seeded pool as it is

A local anvil answers in well under a millisecond, so the time column mostly measures Python and the
node; with --latency-ms every HTTP round trip also waits that long, which is what a remote RPC costs.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eth_utils import keccak, to_checksum_address  # noqa: E402

from chain.client import ChainClient  # noqa: E402
from chain.devnet.anvil import free_port  # noqa: E402
from chain.devnet.manager import Devnet  # noqa: E402
from chain.multicall import count_round_trips  # noqa: E402
from chain.network import devnet_profile  # noqa: E402
from chain.reads import load_account, load_orchestrator_pool, load_orchestrator_pool_naive  # noqa: E402

LPT = 10**18


def grow_pool(client: ChainClient, size: int) -> None:
    """Raise the pool's maximum size and register orchestrators until it holds `size` (devnet only)."""
    w3 = client.w3
    bm = client.contract("BondingManager")
    token = client.contract("LivepeerToken")
    rm = client.contract("RoundsManager").functions
    owner = to_checksum_address(w3.eth.accounts[0])
    current = bm.functions.getTranscoderPoolSize().call()
    if size <= current:
        return
    if bm.functions.getTranscoderPoolMaxSize().call() < size:
        w3.eth.wait_for_transaction_receipt(bm.functions.setNumActiveTranscoders(size).transact({"from": owner}))
    start, length, now = rm.currentRoundStartBlock().call(), rm.roundLength().call(), rm.blockNum().call()
    w3.provider.make_request("anvil_mine", [hex(start + length - now)])
    w3.eth.wait_for_transaction_receipt(rm.initializeRound().transact({"from": owner}))
    addrs = []
    for i in range(size - current):
        addr = to_checksum_address(keccak(text=f"lpc-bench-orchestrator-{i}")[-20:])
        w3.provider.make_request("anvil_impersonateAccount", [addr])
        w3.provider.make_request("anvil_setBalance", [addr, hex(10**20)])
        addrs.append(addr)
    w3.provider.make_request("evm_setAutomine", [False])
    try:
        for step in ("fund", "bond", "rates"):
            for i, a in enumerate(addrs):
                stake = (2_000 + 37 * i) * LPT
                if step == "fund":
                    token.functions.mint(a, stake).transact({"from": owner, "gas": 200_000})
                    token.functions.approve(bm.address, stake).transact({"from": a, "gas": 100_000})
                elif step == "bond":
                    bm.functions.bond(stake, a).transact({"from": a, "gas": 2_000_000})
                else:
                    bm.functions.transcoder(100_000, 500_000).transact({"from": a, "gas": 1_000_000})
            w3.provider.make_request("evm_mine", [])
    finally:
        w3.provider.make_request("evm_setAutomine", [True])


def naive_account(client: ChainClient, address: str) -> dict:
    """The account overview with one call per field (what a hand-written client does)."""
    bm = client.contract("BondingManager").functions
    token = client.contract("LivepeerToken").functions
    rm = client.contract("RoundsManager").functions
    out = {
        "round": [f().call() for f in (rm.currentRound, rm.currentRoundInitialized, rm.currentRoundLocked,
                                       rm.currentRoundStartBlock, rm.roundLength, rm.roundLockAmount, rm.blockNum,
                                       rm.lastInitializedRound)] + [client.controller.functions.paused().call()],
        "lpt": token.balanceOf(address).call(),
        "eth": client.w3.eth.get_balance(address),
        "allowance": token.allowance(address, client.address("BondingManager")).call(),
        "delegator": bm.getDelegator(address).call(),
        "status": bm.delegatorStatus(address).call(),
        "pending_stake": bm.pendingStake(address, 0).call(),
        "pending_fees": bm.pendingFees(address, 0).call(),
        "votes": client.contract("BondingVotes").functions.getVotes(address).call(),
        "registered": bm.isRegisteredTranscoder(address).call(),
        "active": bm.isActiveTranscoder(address).call(),
    }
    out["locks"] = [bm.getDelegatorUnbondingLock(address, i).call() for i in range(out["delegator"][6])]
    return out


def add_latency(client: ChainClient, seconds: float) -> None:
    session = client.w3.provider._request_session_manager
    original = session.make_post_request

    def slow(*args, **kwargs):
        time.sleep(seconds)
        return original(*args, **kwargs)

    session.make_post_request = slow


def measure(label: str, client: ChainClient, fn, repeat: int):
    best, trips = None, None
    for _ in range(repeat):
        with count_round_trips(client.w3) as t:
            t0 = time.perf_counter()
            fn()
            elapsed = time.perf_counter() - t0
        best = elapsed if best is None else min(best, elapsed)
        trips = t
    return label, best, trips.requests, trips.calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pool", type=int, default=100, help="orchestrators in the pool (default 100)")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added to every HTTP round trip")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    d = Path(tempfile.mkdtemp(prefix="lpc-bench-reads-"))
    devnet = Devnet(d)
    try:
        info = devnet.up(port=free_port(), block_time=0)
        profile = devnet_profile(info.controller, info.poll_creator, info.ai_service_registry,
                                 chain_id=info.chain_id, multicall3=info.multicall3)
        client = ChainClient(info.rpc_url, profile)
        client.check_chain()
        grow_pool(client, args.pool)
        load_account(client, client.w3.eth.accounts[0])  # resolve the contract addresses once
        naive_account(client, client.w3.eth.accounts[0])
        if args.latency_ms:
            add_latency(client, args.latency_ms / 1000)
        who = to_checksum_address(client.w3.eth.accounts[26])  # a seeded delegator with an unbonding lock
        size = len(load_orchestrator_pool(client).orchestrators)
        rows = [
            measure(f"pool of {size}: batched (walk + one Multicall3 aggregate)", client,
                    lambda: load_orchestrator_pool(client), args.repeat),
            measure(f"pool of {size}: naive (one call per field)", client,
                    lambda: load_orchestrator_pool_naive(client), args.repeat),
            measure("account overview: batched", client, lambda: load_account(client, who), args.repeat),
            measure("account overview: naive", client, lambda: naive_account(client, who), args.repeat),
        ]
    finally:
        devnet.down()
        shutil.rmtree(d, ignore_errors=True)
    latency = f", +{args.latency_ms:g} ms per round trip" if args.latency_ms else " (local anvil)"
    print(f"chain reads{latency}, best of {args.repeat}")
    print(f"{'what':<58} {'time':>10} {'HTTP requests':>14} {'JSON-RPC calls':>15}")
    for label, secs, requests, calls in rows:
        print(f"{label:<58} {secs * 1000:>8.1f} ms {requests:>14} {calls:>15}")


if __name__ == "__main__":
    main()
