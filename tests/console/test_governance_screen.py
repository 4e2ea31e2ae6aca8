"""Governance on the seeded devnet: proposals with tallies, quorum/quota and the voter's position;
votes through the confirmation modal change `proposalVotes` exactly (delegator override included);
a closed proposal is refused with its reason; LIP poll votes."""

from __future__ import annotations

from textual.widgets import DataTable, Input, Static

from chain.services import governance
from console.app import LivepeerConsole
from console.modals.confirm_tx import ConfirmTxModal
from console.screens.governance.governance import GovernanceScreen
from tests.console.pilot import SIZE, plain_text, settle

FRESH = 55  # a dev account with no stake and no history


async def _open(pilot) -> GovernanceScreen:
    await settle(pilot)
    await pilot.press("v")
    await settle(pilot)
    await pilot.wait_for_scheduled_animations()
    assert isinstance(pilot.app.screen, GovernanceScreen)
    return pilot.app.screen


def _active(svc) -> governance.Proposal:
    return next(p for p in governance.list_proposals(svc.client) if p.state is governance.ProposalState.ACTIVE)


def _votes(svc, pid) -> tuple[int, int, int]:
    return tuple(svc.client.contract("LivepeerGovernor").functions.proposalVotes(pid).call())


async def _send(pilot) -> ConfirmTxModal:
    modal = pilot.app.screen
    assert isinstance(modal, ConfirmTxModal)
    await pilot.click("#send")
    await settle(pilot)
    return modal


# -- snapshots ----------------------------------------------------------------------------------


def test_governance_snapshot_loaded(console_services, snap_compare):
    assert snap_compare(LivepeerConsole(console_services, poll=False), terminal_size=SIZE, run_before=_open)


def test_governance_snapshot_fresh_account(console_services, snap_compare):
    console_services.account = console_services.client.w3.to_checksum_address(
        console_services.client.w3.eth.accounts[FRESH])
    assert snap_compare(LivepeerConsole(console_services, poll=False), terminal_size=SIZE, run_before=_open)


def test_governance_snapshot_rpc_down_keeps_data_marked_stale(console_services, snap_compare):
    async def run_before(pilot):
        await _open(pilot)
        console_services.client.w3.provider.endpoint_uri = "http://127.0.0.1:9"  # nothing listens there
        await pilot.press("r")
        await settle(pilot)
        pilot.app.clear_notifications()
        await pilot.pause()

    assert snap_compare(LivepeerConsole(console_services, poll=False), terminal_size=SIZE, run_before=run_before)


def test_governance_snapshot_vote_confirmation(signing_services, snap_compare):
    async def run_before(pilot):
        await _open(pilot)
        pilot.app.screen.query_one("#reason", Input).value = "Benchmarks help every operator."
        await pilot.press("escape")  # leave nothing focused in the input
        await pilot.press("f")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ConfirmTxModal)

    assert snap_compare(LivepeerConsole(signing_services, poll=False), terminal_size=SIZE, run_before=run_before)


# -- flows --------------------------------------------------------------------------------------


async def test_orchestrator_vote_adds_exactly_its_weight_to_for(signing_services):
    svc = signing_services  # orchestrator #1: has not voted on the active proposal, no delegator has
    p = _active(svc)
    before = _votes(svc, p.id)
    power = svc.client.contract("LivepeerGovernor").functions.getVotes(svc.account, p.snapshot).call()
    app = LivepeerConsole(svc, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot)
        assert "not cast" in plain_text(screen.query_one("#ballot-text", Static))
        screen.query_one("#reason", Input).value = "Benchmarks help every operator."
        screen.query_one("#proposals", DataTable).focus()
        await pilot.press("f")
        await settle(pilot)
        assert _votes(svc, p.id) == before  # nothing sent before Send
        modal = await _send(pilot)
        assert "✓" in plain_text(modal.query_one("#result", Static))
        await pilot.click("#close")
        await settle(pilot)
        assert "for (" in plain_text(screen.query_one("#ballot-text", Static))
    against, for_, abstain = before
    assert _votes(svc, p.id) == (against, for_ + power, abstain)
    vote = svc.client.contract("LivepeerGovernor").events.VoteCast().get_logs(from_block="latest")[0]["args"]
    assert vote["reason"] == "Benchmarks help every operator." and vote["support"] == 1


async def test_delegator_override_moves_its_weight_out_of_its_orchestrators_vote(signing_services):
    svc = signing_services
    p = _active(svc)
    gov = svc.client.contract("LivepeerGovernor").functions
    # accounts[30] delegates to orchestrator #3, which voted against the active proposal.
    delegator = svc.accounts[30]
    svc.account = delegator
    assert gov.hasVoted(p.id, svc.accounts[3]).call()
    power = gov.getVotes(delegator, p.snapshot).call()
    before = _votes(svc, p.id)
    app = LivepeerConsole(svc, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot)
        ballot = plain_text(screen.query_one("#ballot-text", Static))
        assert "voted against" in ballot and "moves your" in ballot
        await pilot.press("f")
        await settle(pilot)
        await _send(pilot)
        await pilot.click("#close")
        await settle(pilot)
    against, for_, abstain = before
    assert _votes(svc, p.id) == (against - power, for_ + power, abstain)


async def test_vote_on_a_closed_proposal_is_refused_with_the_reason(signing_services):
    svc = signing_services
    nonce = svc.client.w3.eth.get_transaction_count(svc.account)
    app = LivepeerConsole(svc, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot)
        table = screen.query_one("#proposals", DataTable)
        table.focus()
        await pilot.press("down")  # the executed proposal
        await pilot.press("a")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmTxModal)
        message = plain_text(screen.query_one("#vote-message", Static))
        assert "Executed, not open for voting" in message and "only Active proposals take votes" in message
    assert svc.client.w3.eth.get_transaction_count(svc.account) == nonce


async def test_poll_vote_through_the_ui(keyring_services):
    svc = keyring_services  # signs with the key imported into a real gnome-keyring
    voter = svc.accounts[3]  # orchestrator #3 voted no in the seed; it changes its mind
    svc.account = voter
    poll = governance.list_polls(svc.client)[0]
    app = LivepeerConsole(svc, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot)
        screen.query_one("#tabs").active = "tab-polls"
        await settle(pilot)
        await pilot.press("Y")
        await settle(pilot)
        modal = await _send(pilot)
        assert "✓" in plain_text(modal.query_one("#result", Static))
        await pilot.click("#close")
        await settle(pilot)
        assert "recorded" in plain_text(screen.query_one("#poll-message", Static))
    after = governance.list_polls(svc.client)[0]
    assert after.yes > poll.yes and after.no < poll.no and after.voters == poll.voters
