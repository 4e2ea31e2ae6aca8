"""Waiting for a condition with a deadline, never a sleep for timing: the loop the tests share."""

from __future__ import annotations

import time


def wait_for(cond, timeout: float = 30.0, what="condition", interval: float = 0.05):
    """`cond()`'s first true value, tried every `interval` seconds; AssertionError naming `what` (a text,
    or a callable giving one, read only on failure) after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what() if callable(what) else what}")
