"""Devnet start-up time: from the saved (packaged) state vs. deploying and seeding from scratch.

    .venv/bin/python bench/devnet_start.py

Target (issue "Foundation 1"): cold start to ready <= 15 s on a 2-core machine.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chain.devnet.anvil import free_port  # noqa: E402
from chain.devnet.manager import Devnet  # noqa: E402


def timed_up(data_dir: Path, *, packaged: bool) -> float:
    dev = Devnet(data_dir)
    if not packaged:
        import chain.devnet.manager as m

        saved = m.PACKAGED_STATE
        m.PACKAGED_STATE = Path("/nonexistent")
    t0 = time.perf_counter()
    try:
        dev.up(port=free_port(), block_time=0)
    finally:
        if not packaged:
            m.PACKAGED_STATE = saved
    elapsed = time.perf_counter() - t0
    dev.down()
    return elapsed


def main() -> None:
    rows = []
    for label, packaged in (("fresh data dir, packaged seeded state", True),
                            ("fresh data dir, deploy + seed from scratch (baseline: replaying)", False)):
        d = Path(tempfile.mkdtemp(prefix="lpc-bench-"))
        try:
            rows.append((label, timed_up(d, packaged=packaged)))
            rows.append((label.split(",")[0].replace("fresh", "second start of the same") + " (saved state)",
                         timed_up(d, packaged=True)))
        finally:
            shutil.rmtree(d, ignore_errors=True)
    width = max(len(r[0]) for r in rows)
    print(f"{'devnet up':<{width}}  seconds")
    for label, secs in rows:
        print(f"{label:<{width}}  {secs:7.2f}")
    print("target: cold start to ready <= 15 s")


if __name__ == "__main__":
    main()
