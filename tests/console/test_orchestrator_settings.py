"""Orchestrator settings on the seeded devnet: on-chain values next to the form, the lock-window and
reward-first rules shown before you try, only changed fields sent, refusals that send nothing, and
input that is checked field by field."""

from __future__ import annotations

import pytest
from textual.widgets import Input, Static

from console.app import LivepeerConsole
from console.modals.confirm_tx import ConfirmTxModal
from console.screens.orchestrator.orchestrator import LOCK_REVERT, REWARD_REVERT, OrchestratorScreen
from tests.console.pilot import SIZE, plain_text, settle



async def _open(pilot) -> OrchestratorScreen:
    await settle(pilot)
    await pilot.press("c")
    await settle(pilot)
    assert isinstance(pilot.app.screen, OrchestratorScreen)
    return pilot.app.screen


async def _submit(pilot, screen, **fields) -> None:
    for name, value in fields.items():
        screen.query_one(f"#{name.replace('_', '-')}", Input).value = value
    await pilot.pause()
    await pilot.press("ctrl+s")
    await settle(pilot)


def _flat(static) -> str:
    """A Static's text on one line (wrapping breaks lines anywhere)."""
    return " ".join(plain_text(static).split())


def _transcoder(svc, who):
    return svc.client.contract("BondingManager").functions.getTranscoder(who).call()


def _uri(svc, who):
    return svc.client.contract("ServiceRegistry").functions.getServiceURI(who).call()


# -- snapshots ----------------------------------------------------------------------------------


def test_orchestrator_snapshot_loaded(console_services, snap_compare):
    assert snap_compare(LivepeerConsole(console_services, poll=False), terminal_size=SIZE, run_before=_open)


def test_orchestrator_snapshot_delegator_sees_how_to_join(console_services, snap_compare):
    console_services.account = console_services.client.w3.to_checksum_address(
        console_services.client.w3.eth.accounts[20])
    assert snap_compare(LivepeerConsole(console_services, poll=False), terminal_size=SIZE, run_before=_open)


def test_orchestrator_snapshot_rpc_down_keeps_data_marked_stale(console_services, snap_compare):
    async def run_before(pilot):
        await _open(pilot)
        console_services.client.w3.provider.endpoint_uri = "http://127.0.0.1:9"
        pilot.app.screen.query_one("#reward-cut", Input).blur()
        await pilot.press("r")
        await settle(pilot)
        pilot.app.clear_notifications()
        await pilot.pause()

    assert snap_compare(LivepeerConsole(console_services, poll=False), terminal_size=SIZE, run_before=run_before)


def test_orchestrator_snapshot_change_confirmation(signing_services, snap_compare):
    async def run_before(pilot):
        screen = await _open(pilot)
        await _submit(pilot, screen, fee_share="60")
        assert isinstance(pilot.app.screen, ConfirmTxModal)

    assert snap_compare(LivepeerConsole(signing_services, poll=False), terminal_size=SIZE, run_before=run_before)


# -- flows --------------------------------------------------------------------------------------


async def test_fee_share_change_sends_only_that_field(keyring_services):
    svc = keyring_services  # orchestrator #1 has called reward this round; signs through a real gnome-keyring
    before = _transcoder(svc, svc.account)
    uri = _uri(svc, svc.account)
    app = LivepeerConsole(svc, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot)
        await _submit(pilot, screen, fee_share="60")
        modal = app.screen
        assert isinstance(modal, ConfirmTxModal)
        [intent] = modal.plan.intents  # no setServiceURI: the URI field was left empty
        assert intent.action == "transcoder" and intent.args == (before[1], 600_000)
        plan = plain_text(modal.query_one("#plan", Static))
        assert "fee share (to delegators) 50% → 60%" in plan and "reward cut" not in plan.split("→")[0].lower()
        await pilot.click("#send")
        await settle(pilot)
        await pilot.click("#close")
        await settle(pilot)
        assert "changed on chain" in plain_text(screen.query_one("#config-message", Static))
        assert "60%" in plain_text(screen.query_one("#current-fee-share", Static))
    after = _transcoder(svc, svc.account)
    assert after[2] == 600_000 and after[1] == before[1]
    assert _uri(svc, svc.account) == uri


async def test_service_uri_change_alone_does_not_touch_rates(signing_services):
    svc = signing_services
    before = _transcoder(svc, svc.account)
    app = LivepeerConsole(svc, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot)
        await _submit(pilot, screen, service_uri="https://198.51.100.7:8935")
        modal = app.screen
        assert [i.action for i in modal.plan.intents] == ["setServiceURI"]
        await pilot.click("#send")
        await settle(pilot)
        await pilot.click("#close")
        await settle(pilot)
    assert _uri(svc, svc.account) == "https://198.51.100.7:8935"
    assert _transcoder(svc, svc.account)[:3] == before[:3]


async def test_ai_service_uri_change_sends_one_tx_to_the_ai_service_registry(signing_services):
    svc = signing_services
    ai = svc.client.contract("AIServiceRegistry").functions
    before_uri, before_ai = _uri(svc, svc.account), ai.getServiceURI(svc.account).call()
    app = LivepeerConsole(svc, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot)
        assert _flat(screen.query_one("#current-ai-service-uri", Static)) == (before_ai or "(none)")
        await _submit(pilot, screen, ai_service_uri="https://198.51.100.9:8936")
        modal = app.screen
        assert [(i.contract, i.action) for i in modal.plan.intents] == [("AIServiceRegistry", "setServiceURI")]
        await pilot.click("#send")
        await settle(pilot)
        await pilot.click("#close")
        await settle(pilot)
        assert _flat(screen.query_one("#current-ai-service-uri", Static)) == "https://198.51.100.9:8936"
    assert ai.getServiceURI(svc.account).call() == "https://198.51.100.9:8936"
    assert _uri(svc, svc.account) == before_uri  # the transcoding service URI is untouched


async def test_rate_change_in_the_lock_window_shows_the_rule_and_sends_nothing(signing_services):
    svc = signing_services
    rm = svc.client.contract("RoundsManager").functions
    length, start, now = rm.roundLength().call(), rm.currentRoundStartBlock().call(), rm.blockNum().call()
    lock_starts = start + length - length * rm.roundLockAmount().call() // 1_000_000
    svc.client.w3.provider.make_request("anvil_mine", [hex(lock_starts - now)])
    assert rm.currentRoundLocked().call()
    nonce = svc.client.w3.eth.get_transaction_count(svc.account)
    app = LivepeerConsole(svc, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot)
        rule = _flat(screen.query_one("#rule-lock", Static))
        assert "LOCKED" in rule and LOCK_REVERT in rule
        await _submit(pilot, screen, reward_cut="10")
        assert not isinstance(app.screen, ConfirmTxModal)
        message = _flat(screen.query_one("#config-message", Static))
        assert "nothing sent" in message and "lock period" in message and LOCK_REVERT in message
    assert svc.client.w3.eth.get_transaction_count(svc.account) == nonce


async def test_rate_change_before_calling_reward_shows_the_rule_and_sends_nothing(signing_services):
    svc = signing_services
    svc.account = svc.accounts[2]  # orchestrator #2: active, reward not called this round
    nonce = svc.client.w3.eth.get_transaction_count(svc.account)
    app = LivepeerConsole(svc, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot)
        assert "NOT called" in plain_text(screen.query_one("#rule-reward", Static))
        await _submit(pilot, screen, reward_cut="10")
        assert not isinstance(app.screen, ConfirmTxModal)
        message = _flat(screen.query_one("#config-message", Static))
        assert "must call reward" in message and REWARD_REVERT in message
    assert svc.client.w3.eth.get_transaction_count(svc.account) == nonce


@pytest.mark.parametrize(("field", "value", "expected"), [
    ("reward_cut", "101", "must be between 0 and 100"),
    ("fee_share", "1.23456", "more than 4 decimals"),
    ("reward_cut", "abc", "is not a number"),
    ("service_uri", "abc", "is not an https URL"),
    ("service_uri", "https://host:8935/path", "no path"),
    ("service_uri", "https://host:99999", "invalid port"),
])
async def test_bad_input_is_refused_field_by_field(signing_services, field, value, expected):
    svc = signing_services
    nonce = svc.client.w3.eth.get_transaction_count(svc.account)
    app = LivepeerConsole(svc, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot)
        await _submit(pilot, screen, **{field: value})
        assert not isinstance(app.screen, ConfirmTxModal)
        notice = _flat(screen.query_one(f"#notice-{field.replace('_', '-')}", Static))
        assert expected in notice
        assert "nothing sent" in plain_text(screen.query_one("#config-message", Static))
    assert svc.client.w3.eth.get_transaction_count(svc.account) == nonce


async def test_empty_form_sends_nothing_and_says_so(signing_services):
    svc = signing_services
    app = LivepeerConsole(svc, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot)
        await _submit(pilot, screen)
        assert not isinstance(app.screen, ConfirmTxModal)
        assert "empty = unchanged" in plain_text(screen.query_one("#config-message", Static))


async def test_screen_keys_work_on_arrival_and_escape_leaves_a_field(console_services):
    """No focus trap: arriving on the screen no field has the cursor, so `v` (Governance) navigates; typed into a
    field, letters are text until Escape, after which `v` navigates again."""
    from console.screens.governance.governance import GovernanceScreen

    app = LivepeerConsole(console_services, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot)
        assert not isinstance(screen.focused, Input)
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, GovernanceScreen)
        screen = await _open(pilot)
        screen.query_one("#reward-cut", Input).focus()
        await pilot.press("1", "v")
        assert screen.query_one("#reward-cut", Input).value == "1v" and app.screen is screen
        await pilot.press("escape")
        assert screen.focused is None and screen.query_one("#reward-cut", Input).value == "1v"
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, GovernanceScreen)
