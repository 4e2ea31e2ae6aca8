"""`NA`: the value of a GPU or host field that could not be read.

A field the hardware does not support, or whose read failed, is `NA` rather than an exception or a
guess. `NA` is falsy, prints as "N/A" (also through format specs such as ``f"{x:>5}"``) and becomes
``null`` in JSON, so it flows to a table or a graph with no special-casing (nvitop's ``NA`` is the
model; ours is a singleton rather than a ``str`` so it cannot be mistaken for a real string value).
"""

from __future__ import annotations

from typing import Any, Final, TypeVar

T = TypeVar("T")


class NAType:
    """The type of `NA`; there is exactly one instance."""

    __slots__ = ()
    _instance: NAType | None = None

    def __new__(cls) -> NAType:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NA"

    def __str__(self) -> str:
        return "N/A"

    def __format__(self, spec: str) -> str:
        try:
            return format("N/A", spec)
        except ValueError:  # a numeric spec such as ".1f": the text is still "N/A"
            return "N/A"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self) -> str:
        return "NA"

    def __copy__(self) -> NAType:
        return self

    def __deepcopy__(self, memo: Any) -> NAType:
        return self


NA: Final = NAType()


def is_na(value: object) -> bool:
    return value is NA


def or_none(value: T | NAType) -> T | None:
    """The value, or None for `NA` (for JSON and arithmetic)."""
    return None if value is NA else value  # type: ignore[return-value]
