"""Typed, validated params for the live pipelines: what each key accepts, its default and its help line,
in one declaration per pipeline, so the console's help, the defaults and the validation cannot disagree.

    SPECS = (Param("strength", "0 to 1 …", 1.0, number(0, 1)), Param("mode", "…", "blur", choice("blur", "black")))
    merged = merge_params("face-blur", SPECS, current, update)   # ParamsError names the bad key

A partial update is merged over the params in force; nothing changes unless every key is good.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core.live.ports import ParamsError

Parser = Callable[[Any], Any]  # value -> normalised value, or ValueError saying what it accepts


@dataclass(frozen=True)
class Param:
    name: str
    help: str
    default: Any
    parse: Parser


def number(lo: float, hi: float) -> Parser:
    def parse(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"a number from {lo:g} to {hi:g}")
        if not lo <= value <= hi:
            raise ValueError(f"a number from {lo:g} to {hi:g}")
        return float(value)
    return parse


def integer(lo: int, hi: int) -> Parser:
    def parse(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                or value != int(value) or not lo <= value <= hi:
            raise ValueError(f"a whole number from {lo} to {hi}")
        return int(value)
    return parse


def choice(*options: str) -> Parser:
    def parse(value: Any) -> str:
        if not isinstance(value, str) or value.lower() not in options:
            raise ValueError("one of " + ", ".join(repr(o) for o in options))
        return value.lower()
    return parse


_HEX = re.compile(r"^#?([0-9a-fA-F]{6})$")


def colour(value: Any) -> str:
    """'#00FF00', '00ff00' or [0, 255, 0] -> '#00ff00' (rgb() turns it into numbers)."""
    if isinstance(value, str):
        m = _HEX.match(value.strip())
        if m:
            return "#" + m.group(1).lower()
    elif isinstance(value, (list, tuple)) and len(value) == 3 \
            and all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255 for c in value):
        return "#{:02x}{:02x}{:02x}".format(*value)
    raise ValueError("a colour as '#rrggbb' or [r, g, b] with each 0 to 255")


def rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def defaults(specs: Sequence[Param]) -> dict[str, Any]:
    return {p.name: p.default for p in specs}


def help_lines(specs: Sequence[Param]) -> dict[str, str]:
    return {p.name: p.help for p in specs}


def merge_params(model_id: str, specs: Sequence[Param], current: Mapping[str, Any],
                 update: Mapping[str, Any]) -> dict[str, Any]:
    """`current` with every key of `update` parsed over it; ParamsError (naming the key, the value and what
    the key accepts) on the first bad one, with nothing applied."""
    if not isinstance(update, Mapping):
        raise ParamsError(f"{model_id}: params must be a JSON object of name: value, got {type(update).__name__}")
    by_name = {p.name: p for p in specs}
    merged = dict(current)
    for key, value in update.items():
        spec = by_name.get(key)
        if spec is None:
            raise ParamsError(f"{model_id}: unknown param {key!r}; it takes " + ", ".join(by_name))
        try:
            merged[key] = spec.parse(value)
        except ValueError as exc:
            shown = repr(value)
            shown = shown if len(shown) <= 60 else shown[:57] + "..."
            raise ParamsError(f"{model_id}: param {key!r} got {shown}; it takes {exc}") from None
    return merged
