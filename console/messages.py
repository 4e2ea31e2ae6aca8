"""Messages that carry results from workers to widgets: named for what happened (attributes down, messages up)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:  # chain.reads loads with the first read, after the console's first frame
    from chain.reads import OrchestratorPool, RoundInfo


@dataclass
class RoundLoaded(Message):
    info: RoundInfo


@dataclass
class PoolLoaded(Message):
    pool: OrchestratorPool


@dataclass
class ChainUnavailable(Message):
    """A poll failed; the screens keep their last data and show it as stale."""

    reason: str


@dataclass
class PlanRefused(Message):
    """A transaction was refused before signing (it would fail): why, and what to do."""

    reason: str
    fix: str = ""
