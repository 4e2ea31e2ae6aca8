"""A devnet leaves no block states on disk: anvil by default writes every state past its in-memory window to
~/.foundry/anvil/tmp and never removes them (gigabytes per seeded devnet, run after run)."""

from __future__ import annotations

from pathlib import Path

from chain.devnet.anvil import find_anvil, free_port, rpc_call, start_anvil

ANVIL_TMP = Path.home() / ".foundry" / "anvil" / "tmp"


def _state_files() -> set[Path]:
    return set(ANVIL_TMP.rglob("*")) if ANVIL_TMP.exists() else set()


def test_many_blocks_write_no_state_to_disk(tmp_path):
    before = _state_files()
    proc = start_anvil(find_anvil(), port=free_port(), log_path=tmp_path / "anvil.log")
    try:
        for _ in range(3):
            rpc_call(proc.rpc_url, "anvil_mine", ["0x100"])  # far past the in-memory window
        assert int(rpc_call(proc.rpc_url, "eth_blockNumber"), 16) == 768
    finally:
        proc.stop()
    assert _state_files() - before == set()
