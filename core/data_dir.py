"""Where an installation's data dir is and whether it can be used: the first thing every `lpc` start
decides, before any setting is read.

Rule: --data-dir beats LPC_DATA_DIR beats the platform's user data dir; nothing is created here. This
module imports only the standard library (platformdirs when the default is needed), so the console can
check its data dir before its first frame without the settings model (pydantic). core/settings.py has
the same three functions; they should become imports from here (left to that module's owner).
"""

from __future__ import annotations

import os
from pathlib import Path


def default_data_dir() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("livepeer-console", appauthor=False))


def resolve_data_dir(flag: str | os.PathLike | None = None) -> Path:
    """--data-dir beats LPC_DATA_DIR beats the platform default."""
    if flag:
        return Path(flag).expanduser().resolve()
    env = os.environ.get("LPC_DATA_DIR")
    if env:
        return Path(env).expanduser().resolve()
    return default_data_dir()


def data_dir_problem(root: Path, *, writing: bool = False) -> str | None:
    """Why `root` cannot be used as a data dir, or None. Nothing is created: a missing data dir is fine
    when it can be made (its nearest existing parent is a writable folder). With `writing`, an existing
    data dir must also be writable by this user."""
    if root.exists():
        if not root.is_dir():
            return f"the data dir {root} is a file, not a folder: move it aside or pick another with --data-dir"
        if writing and not os.access(root, os.W_OK | os.X_OK):
            return f"the data dir {root} is not writable by this user: give it write access or pick another with --data-dir"
        return None
    parent = root.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        return f"cannot create the data dir {root}: {parent} is a file, not a folder; pick another with --data-dir"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"cannot create the data dir {root}: {parent} is not writable; pick another with --data-dir"
    return None
