"""`json.loads` with a nesting limit checked before decoding, for JSON that comes from the network.

CPython's JSON decoder recurses once per `[` or `{`, guarded only by the interpreter's recursion limit.
py_ecc, which web3 and eth-account import, raises that limit to 100,000 for the whole process, so a body of
~100,000 `[` no longer raises RecursionError: it overflows the C stack and the process dies with a
segmentation fault (a whole node taken down by one request). The depth is therefore counted first, at C
speed: string literals are blanked with one regular expression and only the brackets that remain are
walked. Bodies with few brackets (almost all) skip even that.

    doc = loads(body)            # TooDeep (a ValueError) past MAX_DEPTH levels, else json.loads(body)
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 64  # far more than any Livepeer API object nests

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")


class TooDeep(ValueError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"the JSON is nested more than {limit} levels deep")
        self.limit = limit


def depth(data: bytes | str) -> int:
    """How deep the arrays and objects of `data` nest (brackets inside strings do not count)."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
    if raw.count(b"[") + raw.count(b"{") == 0:
        return 0
    deepest = level = 0
    for m in _BRACKET.finditer(_STRING.sub(b'""', raw)):
        if m.group() in (b"[", b"{"):
            level += 1
            deepest = max(deepest, level)
        else:
            level -= 1
    return deepest


def loads(data: bytes | str, *, max_depth: int = MAX_DEPTH, **kwargs: Any) -> Any:
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
    if raw.count(b"[") + raw.count(b"{") > max_depth and depth(raw) > max_depth:
        raise TooDeep(max_depth)
    return json.loads(data, **kwargs)
