"""The header takes the round and a stale reason whenever they arrive — also in the moment after it is
mounted and before its parts are composed (the console's first chain read can land there: the console
died at start with NoMatches '#stale')."""

from __future__ import annotations

from textual.app import App
from textual.widgets import Static

from chain.reads import RoundInfo
from console.widgets.status_header import StatusHeader
from tests.console.pilot import plain_text
from themes import SEMANTIC_DEFAULTS


class HeaderApp(App):
    def get_theme_variable_defaults(self) -> dict[str, str]:
        return {**super().get_theme_variable_defaults(), **SEMANTIC_DEFAULTS}


def _round() -> RoundInfo:
    # round 7: 20 blocks from L1 block 100, 10 of them gone
    return RoundInfo(number=7, initialized=True, locked=False, start_block=100, length=20, lock_amount=100_000,
                     l1_block=110)


async def test_round_and_stale_reason_set_before_the_header_is_composed():
    app = HeaderApp()
    async with app.run_test() as pilot:
        header = StatusHeader("DEVNET", True, None)
        mounting = app.mount(header)  # not awaited: the header is attached, its parts not yet composed
        header.round_info = _round()
        header.stale_reason = "connection refused"
        await mounting
        await pilot.pause()
        assert "round 7" in plain_text(header.query_one("#round", Static))
        assert header.has_class("-stale")
        assert "STALE" in plain_text(header.query_one("#stale", Static))
