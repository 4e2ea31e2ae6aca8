"""The committed compiled contracts, client ABIs and seeded state are what the sources produce."""

import json
import subprocess
import sys
from pathlib import Path

from chain.devnet.artifacts import artifacts_digest
from chain.devnet.manager import PACKAGED_DEPLOYMENT, PACKAGED_STATE, SEED_FORMAT

REPO = Path(__file__).resolve().parents[2]


def test_committed_artifacts_match_the_solidity_sources():
    out = subprocess.run([sys.executable, "-m", "chain.devnet.compile", "--check"], capture_output=True,
                         text=True, cwd=REPO, timeout=300)
    assert out.returncode == 0, out.stderr + out.stdout
    assert "match their sources" in out.stdout


def test_packaged_seed_state_was_built_from_the_current_contracts():
    assert PACKAGED_STATE.exists(), "run `python -m chain.devnet.seed --package`"
    meta = json.loads(PACKAGED_DEPLOYMENT.read_text())
    assert meta["artifacts"] == artifacts_digest(), "contracts changed: run `python -m chain.devnet.seed --package`"
    assert meta["seed_format"] == SEED_FORMAT
