"""Load the committed compiled artifacts of the devnet contracts (package data)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ARTIFACTS_DIR = Path(__file__).resolve().parent / "artifacts"


@dataclass(frozen=True)
class Artifact:
    name: str
    abi: list
    bytecode: str
    deployed_bytecode: str
    sources_digest: str


@cache
def load_artifact(name: str) -> Artifact:
    path = ARTIFACTS_DIR / f"{name}.json"
    if not path.exists():
        raise FileNotFoundError(
            f"no compiled artifact for {name!r} in {ARTIFACTS_DIR}; run `python -m chain.devnet.compile`"
        )
    data = json.loads(path.read_text())
    return Artifact(
        name=name,
        abi=data["abi"],
        bytecode=data["bytecode"],
        deployed_bytecode=data["deployedBytecode"],
        sources_digest=data["sourcesDigest"],
    )


def artifacts_digest() -> str:
    """One digest for the whole contract set: changes whenever any source changes."""
    digests = {load_artifact(p.stem).sources_digest for p in ARTIFACTS_DIR.glob("*.json")}
    return "-".join(sorted(digests))[:64]
