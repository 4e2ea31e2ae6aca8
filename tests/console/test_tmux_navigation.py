"""Navigation always works, tried as a user would in a real terminal: on one `lpc` on the devnet, every
screen's key is pressed from every screen (every ordered pair, 18×18, in one walk of 324 presses) and each
press must land — the nav bar highlights the screen and a text only that screen shows is on it. On
Orchestrator settings a focused field takes a navigation letter as text, Escape leaves the field and
the same letter then navigates — also when Escape and the letter arrive together as one Alt chord."""

from __future__ import annotations

import re

import pytest

from console.app import SCREENS, LivepeerConsole
from tests.console.peers import devnet_with_unreachable_peers
from tests.console.tmux import TmuxConsole, needs_tmux
from tests.keyring_session import keyring_session, secret_service  # noqa: F401

pytestmark = needs_tmux

# A text each screen shows in the state a fresh devnet data dir puts it in (offchain node, stopped), and
# no other screen shows.
MARKER = {
    "dashboard": "Reward this round",
    "overview": "Needs attention",
    "network": "Calls/30",
    "staking": "Unbonding locks",
    "wallet": "keyring",
    "transactions": "in the journal",
    "sessions": "latest source frame",
    "gpu": "traces: last",
    "tickets": "ticket",
    "pricing": "Change a price",
    "earnings": "Deleg. LPT",
    "rewards": "Yield calculator",
    "orchestrator": "Before you change rates",
    "governance": "Treasury proposals",
    "deposit": "Add to deposit",
    "streams": "Self-test (T)",
    "ai": "Try it: pick a pipeline",
    "settings": "RPC URL",
}


def _nav_keys() -> dict[str, tuple[str, str]]:
    """screen key → (the character that opens it, its label in the nav bar), from the app's bindings."""
    out = {}
    for b in LivepeerConsole.BINDINGS:
        if b.action.startswith("show('"):
            out[b.action[len("show('"):-2]] = ("," if b.key == "comma" else b.key, b.description)
    return out


def de_bruijn_walk(n: int) -> list[int]:
    """A cyclic sequence over 0..n-1 of length n² in which every ordered pair (a, b) — a == b included —
    follows one another exactly once (a de Bruijn sequence of order 2), returned closed: n² + 1 items
    starting and ending at 0."""
    seq: list[int] = []
    a = [0] * (2 * n)

    def db(t: int, p: int) -> None:  # the FKM algorithm
        if t > 2:
            if 2 % p == 0:
                seq.extend(a[1:p + 1])
            return
        a[t] = a[t - p]
        db(t + 1, p)
        for j in range(a[t - p] + 1, n):
            a[t] = j
            db(t + 1, t)

    db(1, 1)
    return seq + [seq[0]]


def _field_border(lpc: TmuxConsole, label: str) -> str:
    """The colour of the left edge of the text field on the line of `label` (the focused field's edge is
    drawn in the theme's accent, the others in the background colour)."""
    found = re.search(r"\x1b\[([0-9;]*)m▊", lpc.raw_line(label))
    return found.group(1) if found else ""


def test_the_walk_covers_every_ordered_pair_once():
    walk = de_bruijn_walk(16)
    pairs = list(zip(walk, walk[1:]))
    assert len(pairs) == 256 and set(pairs) == {(a, b) for a in range(16) for b in range(16)}


@pytest.mark.timeout(900)  # 18 x 18 presses, each a screen built and drawn: ~100 s quiet, minutes under load
def test_every_screen_key_works_from_every_screen(tmp_path, secret_service):
    keys = _nav_keys()
    order = [e.key for e in SCREENS]
    assert set(order) == set(keys) == set(MARKER) and order[0] == "dashboard"
    # a desktop-like keyring: no password asked; Pricing probes the pool: its URIs point at a closed port
    lpc = TmuxConsole(tmp_path / "fresh", secret_service.env, prepare=devnet_with_unreachable_peers)
    try:
        # the default devnet account is an orchestrator: the console opens on its Dashboard
        lpc.wait_for(MARKER["dashboard"], "DEVNET", highlighted=f"h {keys['dashboard'][1]}")
        walk = [order[i] for i in de_bruijn_walk(len(order))]
        for came_from, screen in zip(walk, walk[1:]):
            char, label = keys[screen]
            lpc.type(char)
            try:
                lpc.wait_for(MARKER[screen], highlighted=f"{char} {label}", timeout=30)
            except AssertionError as exc:
                raise AssertionError(f"{char!r} pressed on {came_from} did not open {screen}: {exc}") from None

        # A focused field takes letters as text; Escape leaves it and the letter navigates again.
        char, label = keys["orchestrator"]
        gov_char, gov_label = keys["governance"]
        lpc.type(char)
        lpc.wait_for(MARKER["orchestrator"], "of rewards kept", highlighted=f"{char} {label}")  # fields filled
        blurred = _field_border(lpc, "Reward cut")
        assert blurred, "the reward cut field is not on the screen"
        lpc.keys("Tab")  # the first field: the reward cut
        lpc.wait_until(lambda: _field_border(lpc, "Reward cut") not in ("", blurred),
                       "the reward cut field taking the focus")
        lpc.type(gov_char)
        lpc.wait_for(f"the reward cut {gov_char!r} is not a number", highlighted=f"{char} {label}")
        lpc.keys("Escape")
        # (a key sent right after Escape would reach the terminal as Alt+key: wait until the field let go)
        lpc.wait_until(lambda: _field_border(lpc, "Reward cut") == blurred, "Escape leaving the field")
        lpc.type(gov_char)
        lpc.wait_for(MARKER["governance"], highlighted=f"{gov_char} {gov_label}")

        # The same typed fast: tmux sends Escape and the letter as one Alt chord; it still navigates.
        lpc.type(char)
        lpc.wait_for(MARKER["orchestrator"], "of rewards kept", highlighted=f"{char} {label}")
        lpc.keys("Tab")
        lpc.wait_until(lambda: _field_border(lpc, "Reward cut") not in ("", blurred),
                       "the reward cut field taking the focus")
        lpc.type("1")
        lpc.keys("Escape", gov_char)
        lpc.wait_for(MARKER["governance"], highlighted=f"{gov_char} {gov_label}")
        lpc.quit()
    finally:
        lpc.close()
