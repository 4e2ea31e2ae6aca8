"""Python's cyclic garbage collector while `lpc` opens the console: held off until the first frame.

Rule: `lpc`'s entry point holds the collector (`hold`); a subcommand gives it back at once, before its
modules load (`release`), so headless commands and the node run with the usual collector. The console
gives it back right after its first frame, freezing what start-up made first (`release(freeze=True)`):
those objects - modules, classes, functions, the screen - live as long as the process, and later
collections no longer walk them.

Why: start-up creates ~55,000 tracked objects (Textual, click, our modules), and the collector walked
them again and again before the first frame: on one machine 114 young and 10 middle collections
(~26 ms) and one full one (30-75 ms), where a Textual hello-world has ~17 ms and no full one. The
garbage that start-up leaves in cycles is a few kilobytes; a frozen cycle is never freed, which is the
price (CPython's docs suggest gc.freeze for the same long-lived start-up objects).
"""

from __future__ import annotations

import gc

_held = False


def hold() -> None:
    """No collections until `release` (only when the collector is on, as it is by default)."""
    global _held
    if gc.isenabled():
        gc.disable()
        _held = True


def release(*, freeze: bool = False) -> None:
    """The collector back as it was; with `freeze`, what exists now is left out of later collections."""
    global _held
    if not _held:
        return
    _held = False
    if freeze:
        gc.freeze()
    gc.enable()
