"""Completing a file path as it is typed in the try-it panel's file field (→ accepts), so picking an audio
file or an image needs no file dialog: the first entry of the typed directory that starts with the typed
name, directories ending in "/", hidden entries only when a "." was typed."""

from __future__ import annotations

import os

from textual.suggester import Suggester


def complete_path(typed: str, *, limit: int = 2000) -> str | None:
    """The completion of `typed` (as typed, "~" kept), or None. Entries are sorted, so the suggestion is
    stable; a directory of more than `limit` entries is not listed (the field must not stall)."""
    if not typed:
        return None
    head, _, name = typed.rpartition("/")
    directory = os.path.expanduser(head + "/" if head or typed.startswith("/") else ".")
    try:
        with os.scandir(directory) as entries:
            found = []
            for i, entry in enumerate(entries):
                if i >= limit:
                    return None
                if entry.name.startswith(name) and (name.startswith(".") or not entry.name.startswith(".")):
                    found.append((entry.name, entry.is_dir()))
    except OSError:
        return None
    for entry_name, is_dir in sorted(found):
        if entry_name == name and not is_dir:
            continue  # already complete
        completion = (head + "/" if head or typed.startswith("/") else "") + entry_name + ("/" if is_dir else "")
        if completion != typed:
            return completion
    return None


class PathSuggester(Suggester):
    """complete_path as a Textual suggester (not cached: files come and go)."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        return complete_path(value)
