"""Where lpc keeps model files it derives from the bundled packages (SmolLM2 de-quantised to fp32, the two
Whisper base parts joined): LPC_AI_CACHE, else <user cache dir>/lpc/models. Derived files are rebuilt when
missing or when their recorded source digest no longer matches; nothing here is ever downloaded."""

from __future__ import annotations

import os
from pathlib import Path


def model_cache_dir() -> Path:
    explicit = os.environ.get("LPC_AI_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("lpc")) / "models"
