"""Console: time to first paint and the cost of one refresh (time, HTTP requests, JSON-RPC calls per
poll) of Overview and Network with a large orchestrator pool, side by side with an empty screen's.

    .venv/bin/python bench/console.py                      # 1,000 orchestrators on a temporary devnet
    .venv/bin/python bench/console.py --pool 100 --latency-ms 80
    .venv/bin/python bench/console.py --paint-only         # first paint of lpc beside a hello-world

It starts with bench/first_paint.py's comparison: `lpc` from process start to its first frame in a pty,
beside a Textual hello-world measured the same way in the same run (target: at most 2x).

The pool is grown on a fresh devnet (numActiveTranscoders raised to the pool size, orchestrators
registered in batches: a few minutes for 1,000; progress is printed). "First paint" is from starting
the app (headless, 150×40) until the screen shows its chain data: every worker done, the screen laid
out. A poll is the app's round + pool read plus the screen's own reads, run once more after the first
paint (warm: the pool is cached for the round) and once with the caches dropped (cold).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eth_utils import keccak, to_checksum_address  # noqa: E402

from bench.chain_reads import add_latency  # noqa: E402
from chain.devnet.anvil import free_port  # noqa: E402
from chain.devnet.manager import Devnet  # noqa: E402
from chain.multicall import count_round_trips  # noqa: E402

SIZE = (150, 40)
LPT = 10**18
BATCH = 100


def grow_pool(client, size: int) -> None:
    """Raise numActiveTranscoders to `size` and register orchestrators until the pool holds `size`,
    `BATCH` at a time (each batch mined in one large block), printing progress."""
    w3 = client.w3
    bm = client.contract("BondingManager")
    token = client.contract("LivepeerToken")
    rm = client.contract("RoundsManager").functions
    owner = to_checksum_address(w3.eth.accounts[0])
    current = bm.functions.getTranscoderPoolSize().call()
    if size <= current:
        return
    w3.provider.make_request("evm_setBlockGasLimit", [hex(10**10)])
    if bm.functions.getTranscoderPoolMaxSize().call() < size:
        w3.eth.wait_for_transaction_receipt(bm.functions.setNumActiveTranscoders(size).transact({"from": owner}))
    start, length, now = rm.currentRoundStartBlock().call(), rm.roundLength().call(), rm.blockNum().call()
    w3.provider.make_request("anvil_mine", [hex(start + length - now)])
    w3.eth.wait_for_transaction_receipt(rm.initializeRound().transact({"from": owner}))
    addrs = []
    for i in range(size - current):
        addr = to_checksum_address(keccak(text=f"lpc-bench-console-orchestrator-{i}")[-20:])
        w3.provider.make_request("anvil_impersonateAccount", [addr])
        w3.provider.make_request("anvil_setBalance", [addr, hex(10**20)])
        addrs.append(addr)
    t0 = time.perf_counter()
    for first in range(0, len(addrs), BATCH):
        batch = addrs[first:first + BATCH]
        start, length, now = rm.currentRoundStartBlock().call(), rm.roundLength().call(), rm.blockNum().call()
        if now + 4 >= start + length:  # a batch mines 3 blocks: open the next round first
            w3.provider.make_request("anvil_mine", [hex(start + length - now)])
            w3.eth.wait_for_transaction_receipt(rm.initializeRound().transact({"from": owner}))
        w3.provider.make_request("evm_setAutomine", [False])
        try:
            for step in ("fund", "bond", "rates"):
                for i, a in enumerate(batch, first):
                    stake = (2_000 + 37 * i) * LPT
                    if step == "fund":
                        token.functions.mint(a, stake).transact({"from": owner, "gas": 200_000})
                        token.functions.approve(bm.address, stake).transact({"from": a, "gas": 100_000})
                    elif step == "bond":
                        bm.functions.bond(stake, a).transact({"from": a, "gas": 30_000_000})
                    else:
                        bm.functions.transcoder(100_000, 500_000).transact({"from": a, "gas": 1_000_000})
                w3.provider.make_request("evm_mine", [])
        finally:
            w3.provider.make_request("evm_setAutomine", [True])
        done = bm.functions.getTranscoderPoolSize().call()
        print(f"  pool {done}/{size} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)


async def _settle(pilot) -> None:
    for _ in range(6):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


async def _measure(services, screen: str) -> tuple[float, tuple, tuple]:
    from console.app import SCREENS, LivepeerConsole
    from console.screens.base import ConsoleScreen

    class EmptyScreen(ConsoleScreen):
        """A screen with no reads of its own: what the app's poll costs by itself."""

    class BenchConsole(LivepeerConsole):
        def on_mount(self, event) -> None:
            event.prevent_default()  # not the app's own first screen: the one measured
            self.push_screen(EmptyScreen() if screen == "empty" else
                             next(e for e in SCREENS if e.key == screen).factory())
            self.refresh_chain()

    app = BenchConsole(services, poll=False)
    w3 = services.client.w3
    t0 = time.perf_counter()
    async with app.run_test(size=SIZE) as pilot:
        await _settle(pilot)
        first_paint = time.perf_counter() - t0
        polls = []
        for cold in (False, True):
            if cold:
                app.pool_cache.invalidate()
                app.activity_cache.invalidate()
            with count_round_trips(w3) as trips:
                t1 = time.perf_counter()
                app.refresh_chain()
                await _settle(pilot)
                polls.append((time.perf_counter() - t1, trips.requests, trips.calls))
    return first_paint, polls[0], polls[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pool", type=int, default=1_000, help="orchestrators in the pool (default 1,000)")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added to every HTTP round trip")
    parser.add_argument("--paint-runs", type=int, default=7, help="first-paint samples of each (default 7)")
    parser.add_argument("--paint-only", action="store_true", help="only the first-paint comparison")
    args = parser.parse_args()

    from bench.first_paint import report

    report(args.paint_runs)
    if args.paint_only:
        return
    print()

    from chain.devnet.seed import DEFAULT_ACCOUNT_INDEX
    from console.services import ConsoleServices
    from core.composition import chain_client, network_profile
    from core.settings import load_settings

    d = Path(tempfile.mkdtemp(prefix="lpc-bench-console-"))
    devnet = Devnet(d)
    try:
        t = time.perf_counter()
        print("starting the devnet…", file=sys.stderr, flush=True)
        devnet.up(port=free_port(), block_time=0)
        settings = load_settings(d)
        client = chain_client(settings)
        profile, _ = network_profile(settings)
        print(f"growing the pool to {args.pool} orchestrators (registering in batches)…", file=sys.stderr, flush=True)
        grow_pool(client, args.pool)
        size = client.contract("BondingManager").functions.getTranscoderPoolSize().call()
        print(f"pool of {size} ready in {time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)
        if args.latency_ms:
            add_latency(client, args.latency_ms / 1000)
        account = client.w3.eth.accounts[DEFAULT_ACCOUNT_INDEX]
        rows = []
        for screen in ("empty", "overview", "network"):
            print(f"measuring {screen}…", file=sys.stderr, flush=True)
            services = ConsoleServices(settings=settings, profile=profile, client_factory=lambda: client,
                                       account=client.w3.to_checksum_address(account))
            rows.append((screen, *asyncio.run(_measure(services, screen))))
    finally:
        devnet.down()
        shutil.rmtree(d, ignore_errors=True)
    latency = f", +{args.latency_ms:g} ms per round trip" if args.latency_ms else " (local anvil)"
    print(f"console with {size} orchestrators{latency}, headless {SIZE[0]}×{SIZE[1]}")
    print(f"{'screen':<10} {'first paint':>12} {'poll (warm)':>12} {'req':>5} {'calls':>6} "
          f"{'poll (cold)':>12} {'req':>5} {'calls':>6}")
    for screen, paint, warm, cold in rows:
        print(f"{screen:<10} {paint * 1000:>9.0f} ms {warm[0] * 1000:>9.0f} ms {warm[1]:>5} {warm[2]:>6} "
              f"{cold[0] * 1000:>9.0f} ms {cold[1]:>5} {cold[2]:>6}")


if __name__ == "__main__":
    main()
