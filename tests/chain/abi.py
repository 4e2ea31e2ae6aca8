"""Canonical signatures from the compiled devnet ABIs, for conformance tests against protocol.md §2.11."""

from __future__ import annotations

from chain.devnet.artifacts import load_artifact


def abi_signature(entry: dict) -> str:
    """`name(type,...)` with tuples expanded, as used for selectors and event topics."""

    def typ(i: dict) -> str:
        if i["type"].startswith("tuple"):
            return "(" + ",".join(typ(c) for c in i["components"]) + ")" + i["type"][len("tuple"):]
        return i["type"]

    return f"{entry['name']}({','.join(typ(i) for i in entry['inputs'])})"


def abi_index(artifact: str, kind: str) -> dict[str, dict]:
    """Entries of one kind (function, event, error) of a compiled artifact, keyed by signature."""
    return {abi_signature(e): e for e in load_artifact(artifact).abi if e["type"] == kind}
