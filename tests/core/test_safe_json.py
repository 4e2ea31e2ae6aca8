"""JSON from the network is depth-checked before it is decoded: with web3 imported, py_ecc has raised the
recursion limit to 100,000, and CPython's decoder then overflows the C stack on deep nesting (the process
dies with a segmentation fault) instead of raising RecursionError."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from core import safe_json

REPO = Path(__file__).resolve().parents[2]


def test_depth_counts_arrays_and_objects_but_not_brackets_in_strings():
    assert safe_json.depth(b'{"a": [1, {"b": "[[[[{{"}], "c": "\\"["}') == 3
    assert safe_json.depth('"[[["') == 0 and safe_json.depth(b"12") == 0
    assert safe_json.loads('{"a": "' + "[" * 72 + '"}') == {"a": "[" * 72}  # 72 brackets, all in a string


def test_deep_nesting_is_refused_before_decoding():
    with pytest.raises(safe_json.TooDeep, match="more than 64 levels"):
        safe_json.loads(b"[" * 65 + b"]" * 65)
    assert safe_json.loads(b"[" * 64 + b"]" * 64) == eval("[" * 64 + "]" * 64)


def test_a_deeply_nested_ai_request_is_a_400_in_a_process_that_imported_web3():
    """The node's own situation: eth_account (web3) imported first, then a hostile body."""
    code = ("import sys, eth_account; assert sys.getrecursionlimit() >= 100000, sys.getrecursionlimit()\n"
            "from core.ai import requests\nfrom core.ai.ports import BadRequest, Pipeline\n"
            "body = b'{\"messages\": ' + b'[' * 200000 + b']' * 200000 + b'}'\n"
            "try:\n    requests.parse_request(Pipeline.LLM, 'application/json', body)\n"
            "except BadRequest as e:\n    print('refused:', e)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, (out.returncode, out.stderr[-1500:])  # -11 was the segfault
    assert "refused: llm: the JSON body is nested too deeply" in out.stdout
