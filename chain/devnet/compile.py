"""Compile the devnet's Solidity contracts into committed JSON artifacts (a developer tool).

    python -m chain.devnet.compile          # rebuild chain/devnet/artifacts/*.json
    python -m chain.devnet.compile --check  # exit 1 if the committed artifacts differ from the sources

The compiler is the pinned npm `solc` (wasm) in packaging/devtools, run offline through node. Each
artifact records the hash of every source it was built from, so a test can prove that the committed
bytecode is what the sources compile to.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CONTRACTS = HERE / "contracts"
ARTIFACTS = HERE / "artifacts"
REPO = HERE.parent.parent
DEVTOOLS = REPO / "packaging" / "devtools"
SOLC_VERSION = "0.8.37"
CLIENT_ABIS = (
    "Controller", "LivepeerToken", "BondingManager", "RoundsManager", "Minter", "TicketBroker",
    "ServiceRegistry", "BondingVotes", "LivepeerGovernor", "Treasury", "PollCreator", "Poll", "Multicall3",
    "AggregatorV3",
)
# Client ABIs taken from a Solidity interface rather than from a deployed contract's artifact, so they
# hold only what every implementation has (the devnet's price feed also has an owner-only setter).
INTERFACE_ABIS = {"AggregatorV3": "IAggregatorV3"}
SETTINGS = {
    "optimizer": {"enabled": True, "runs": 200},
    "evmVersion": "cancun",
    "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}},
}


class CompileError(RuntimeError):
    pass


def source_files() -> dict[str, str]:
    return {
        p.relative_to(CONTRACTS).as_posix(): p.read_text()
        for p in sorted(CONTRACTS.rglob("*.sol"))
    }


def sources_digest(sources: dict[str, str]) -> str:
    h = hashlib.sha256()
    for name in sorted(sources):
        h.update(name.encode() + b"\0" + sources[name].encode() + b"\0")
    h.update(json.dumps(SETTINGS, sort_keys=True).encode())
    return h.hexdigest()


def compile_all() -> tuple[dict[str, dict], dict[str, str], dict[str, list]]:
    """Compile each top-level source on its own. Returns (artifacts by contract, errors by file, the
    ABIs of the interfaces named in INTERFACE_ABIS)."""
    script = DEVTOOLS / "compile.js"
    if not (DEVTOOLS / "node_modules" / "solc").exists():
        raise CompileError(
            "npm solc is not installed; run `npm ci --prefix packaging/devtools` (the set-up command does it)"
        )
    sources = source_files()
    roots = [n for n in sources if not n.startswith(("interfaces/", "lib/"))]
    requests = [
        {"language": "Solidity", "sources": {n: {"content": sources[n]}}, "settings": SETTINGS}
        for n in roots
    ]
    env = dict(os.environ, LPC_CONTRACTS_DIR=str(CONTRACTS))
    proc = subprocess.run(
        ["node", str(script)], input=json.dumps(requests), capture_output=True, text=True, check=False, env=env
    )
    if proc.returncode != 0:
        raise CompileError(f"solc failed: {proc.stderr.strip()}")
    outputs = json.loads(proc.stdout)
    digest = sources_digest(sources)
    artifacts: dict[str, dict] = {}
    failures: dict[str, str] = {}
    interfaces: dict[str, list] = {}
    for root, out in zip(roots, outputs):
        errors = [e for e in out.get("errors", []) if e.get("severity") == "error"]
        if errors:
            failures[root] = "\n".join(e.get("formattedMessage", e.get("message", "")) for e in errors)
            continue
        for per_source in out.get("contracts", {}).values():
            for name, data in per_source.items():
                if name in INTERFACE_ABIS.values():
                    interfaces[name] = data["abi"]
        for name, data in out.get("contracts", {}).get(root, {}).items():
            bytecode = data["evm"]["bytecode"]["object"]
            if not bytecode:  # interfaces and abstract contracts
                continue
            artifacts[name] = {
                "contractName": name,
                "sourceName": root,
                "compiler": f"solc {SOLC_VERSION}",
                "sourcesDigest": digest,
                "abi": data["abi"],
                "bytecode": "0x" + bytecode,
                "deployedBytecode": "0x" + data["evm"]["deployedBytecode"]["object"],
            }
    return artifacts, failures, interfaces


def client_abis(artifacts: dict[str, dict], interfaces: dict[str, list]) -> dict[str, list]:
    """The client ABIs (chain/abi/<name>.json) these compiled sources produce."""
    out = {}
    for name in CLIENT_ABIS:
        source = INTERFACE_ABIS.get(name)
        if source is not None and source in interfaces:
            out[name] = interfaces[source]
        elif source is None and name in artifacts:
            out[name] = artifacts[name]["abi"]
    return out


def render(artifact: dict) -> str:
    return json.dumps(artifact, indent=1, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare with the committed artifacts")
    args = parser.parse_args(argv)
    try:
        artifacts, failures, interfaces = compile_all()
    except CompileError as exc:
        print(exc, file=sys.stderr)
        return 2
    for root, message in failures.items():
        print(f"--- {root} does not compile:\n{message}", file=sys.stderr)
    if failures and args.check:
        return 2
    if args.check:
        stale = []
        committed = {p.stem for p in ARTIFACTS.glob("*.json")}
        for name, art in artifacts.items():
            path = ARTIFACTS / f"{name}.json"
            if not path.exists() or path.read_text() != render(art):
                stale.append(name)
        for name, client_abi in client_abis(artifacts, interfaces).items():
            path = REPO / "chain" / "abi" / f"{name}.json"
            if not path.exists() or json.loads(path.read_text()) != client_abi:
                stale.append(f"abi/{name}")
        extra = committed - set(artifacts)
        if stale or extra:
            print(f"artifacts out of date: {sorted(stale)}; no longer built: {sorted(extra)}", file=sys.stderr)
            return 1
        print(f"{len(artifacts)} artifacts match their sources")
        return 0
    ARTIFACTS.mkdir(exist_ok=True)
    failed = set(failures)
    for old in ARTIFACTS.glob("*.json"):
        stale_source = json.loads(old.read_text()).get("sourceName")
        if old.stem not in artifacts and stale_source not in failed:
            old.unlink()
    for name, art in artifacts.items():
        (ARTIFACTS / f"{name}.json").write_text(render(art))
    abi_dir = REPO / "chain" / "abi"
    for name, client_abi in client_abis(artifacts, interfaces).items():
        (abi_dir / f"{name}.json").write_text(json.dumps(client_abi, indent=1, sort_keys=True) + "\n")
    print(f"wrote {len(artifacts)} artifacts to {ARTIFACTS} and the client ABIs to {abi_dir}")
    return 2 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
