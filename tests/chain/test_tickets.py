"""TicketBroker on a real anvil: funding, unlock/withdraw, winning tickets and every refusal reason."""

from __future__ import annotations

import json

import pytest
from eth_utils import keccak
from web3.logs import DISCARD

from chain.devnet.accounts import dev_account
from tests.chain.abi import abi_index
from tests.chain.helpers import (
    LPT,
    MAX_WIN_PROB,
    make_ticket,
    register_orchestrator,
    ticket_aux_data,
    ticket_hash,
)

ETH = 10**18
ZERO = "0x" + "00" * 20


@pytest.fixture
def broker(chain):
    return chain.c("TicketBroker")


@pytest.fixture
def gateway():
    """The ticket sender: an anvil dev account whose private key signs tickets."""
    return dev_account(5)


@pytest.fixture
def orch(chain):
    """A registered orchestrator that is active in the current (initialized) round, keeping all fees."""
    chain.next_round()
    addr = chain.accounts[1]
    register_orchestrator(chain, addr, 1_000 * LPT, reward_cut=0, fee_share=0)
    chain.next_round()
    assert chain.c("BondingManager").functions.isActiveTranscoder(addr).call()
    return addr


def sender_info(broker, addr):
    (deposit, withdraw_round), (reserve, claimed) = broker.functions.getSenderInfo(addr).call()
    return deposit, withdraw_round, reserve, claimed


def pending_fees(chain, addr) -> int:
    return chain.c("BondingManager").functions.pendingFees(addr, 0).call()


# ------------------------------------------------------------------ funding, unlock, withdraw


def test_funding_moves_eth_to_the_minter_and_is_reported_per_sender(chain, broker, gateway, w3):
    minter = chain.protocol.address("Minter")
    before = w3.eth.get_balance(minter)
    receipt = chain.send(broker.functions.fundDepositAndReserve(ETH, 2 * ETH), gateway.address, value=3 * ETH)
    chain.send(broker.functions.fundDeposit(), gateway.address, value=ETH // 2)
    chain.send(broker.functions.fundReserve(), gateway.address, value=ETH // 4)

    assert sender_info(broker, gateway.address) == (ETH + ETH // 2, 0, 2 * ETH + ETH // 4, 0)
    assert broker.functions.getReserveInfo(gateway.address).call() == (2 * ETH + ETH // 4, 0)
    assert w3.eth.get_balance(minter) - before == 3 * ETH + ETH // 2 + ETH // 4
    assert w3.eth.get_balance(broker.address) == 0
    (deposited,) = broker.events.DepositFunded().process_receipt(receipt, errors=DISCARD)
    assert (deposited.args.sender, deposited.args.amount) == (gateway.address, ETH)
    (reserved,) = broker.events.ReserveFunded().process_receipt(receipt, errors=DISCARD)
    assert (reserved.args.reserveHolder, reserved.args.amount) == (gateway.address, 2 * ETH)


def test_fund_for_another_address_and_value_must_match(chain, broker, gateway):
    payer = chain.accounts[7]
    chain.send(broker.functions.fundDepositAndReserveFor(gateway.address, ETH, ETH), payer, value=2 * ETH)
    assert sender_info(broker, gateway.address) == (ETH, 0, ETH, 0)
    assert sender_info(broker, payer) == (0, 0, 0, 0)
    reason = chain.revert_reason(broker.functions.fundDepositAndReserve(ETH, ETH), payer, value=ETH)
    assert "msg.value does not equal sum of deposit amount and reserve amount" in reason


def test_unlock_then_withdraw_after_the_unlock_period(chain, broker, gateway, w3):
    chain.next_round()
    chain.send(broker.functions.fundDepositAndReserve(ETH, 2 * ETH), gateway.address, value=3 * ETH)
    start = chain.current_round()
    unlock_period = broker.functions.unlockPeriod().call()
    assert unlock_period == chain.protocol.params.unlock_period

    receipt = chain.send(broker.functions.unlock(), gateway.address)
    (ev,) = broker.events.Unlock().process_receipt(receipt, errors=DISCARD)
    assert (ev.args.sender, ev.args.startRound, ev.args.endRound) == (gateway.address, start, start + unlock_period)
    assert broker.functions.isUnlockInProgress(gateway.address).call()
    assert sender_info(broker, gateway.address)[1] == start + unlock_period
    assert "unlock already initiated" in chain.revert_reason(broker.functions.unlock(), gateway.address)
    assert "account is locked" in chain.revert_reason(broker.functions.withdraw(), gateway.address)

    for _ in range(unlock_period):
        chain.next_round()
    balance = w3.eth.get_balance(gateway.address)
    receipt = chain.send(broker.functions.withdraw(), gateway.address)
    gas = receipt.gasUsed * receipt.effectiveGasPrice
    assert w3.eth.get_balance(gateway.address) == balance + 3 * ETH - gas
    (ev,) = broker.events.Withdrawal().process_receipt(receipt, errors=DISCARD)
    assert (ev.args.deposit, ev.args.reserve) == (ETH, 2 * ETH)
    assert sender_info(broker, gateway.address) == (0, 0, 0, 0)
    assert not broker.functions.isUnlockInProgress(gateway.address).call()
    assert "sender deposit and reserve are zero" in chain.revert_reason(broker.functions.withdraw(), gateway.address)


def test_cancel_unlock_and_refunding_cancels_it(chain, broker, gateway):
    chain.next_round()
    assert "sender deposit and reserve are zero" in chain.revert_reason(broker.functions.unlock(), gateway.address)
    chain.send(broker.functions.fundDeposit(), gateway.address, value=ETH)
    assert "no unlock request in progress" in chain.revert_reason(broker.functions.cancelUnlock(), gateway.address)
    assert "no unlock request in progress" in chain.revert_reason(broker.functions.withdraw(), gateway.address)

    chain.send(broker.functions.unlock(), gateway.address)
    receipt = chain.send(broker.functions.cancelUnlock(), gateway.address)
    assert len(broker.events.UnlockCancelled().process_receipt(receipt, errors=DISCARD)) == 1
    assert not broker.functions.isUnlockInProgress(gateway.address).call()

    chain.send(broker.functions.unlock(), gateway.address)
    receipt = chain.send(broker.functions.fundDeposit(), gateway.address, value=ETH)
    assert len(broker.events.UnlockCancelled().process_receipt(receipt, errors=DISCARD)) == 1
    assert sender_info(broker, gateway.address) == (2 * ETH, 0, 0, 0)


def test_parameters_are_owner_only(chain, broker):
    stranger = chain.accounts[9]
    assert "caller must be Controller owner" in chain.revert_reason(broker.functions.setUnlockPeriod(5), stranger)
    chain.send(broker.functions.setUnlockPeriod(5), chain.deployer)
    chain.send(broker.functions.setTicketValidityPeriod(3), chain.deployer)
    assert broker.functions.unlockPeriod().call() == 5
    assert broker.functions.ticketValidityPeriod().call() == 3
    assert "ticketValidityPeriod must be greater than 0" in chain.revert_reason(
        broker.functions.setTicketValidityPeriod(0), chain.deployer
    )


# ------------------------------------------------------------------ winning tickets


def test_ticket_hash_matches_the_documented_packing(chain, broker, gateway, orch):
    t = make_ticket(chain, gateway, orch, ETH, nonce=7)
    assert broker.functions.getTicketHash(t.ticket).call() == ticket_hash(t.ticket)


def test_winning_ticket_pays_the_orchestrator_fees(chain, broker, gateway, orch, w3):
    chain.send(broker.functions.fundDepositAndReserve(2 * ETH, ETH), gateway.address, value=3 * ETH)
    minter = chain.protocol.address("Minter")
    minter_eth = w3.eth.get_balance(minter)
    assert pending_fees(chain, orch) == 0

    t = make_ticket(chain, gateway, orch, ETH // 2, nonce=1, recipient_rand=123456789)
    receipt = chain.send(broker.functions.redeemWinningTicket(*t.args), orch)

    assert pending_fees(chain, orch) == ETH // 2
    assert sender_info(broker, gateway.address) == (2 * ETH - ETH // 2, 0, ETH, 0)
    assert broker.functions.usedTickets(ticket_hash(t.ticket)).call()
    assert w3.eth.get_balance(minter) == minter_eth  # fees stay in the Minter until withdrawn
    (redeemed,) = broker.events.WinningTicketRedeemed().process_receipt(receipt, errors=DISCARD)
    assert redeemed.args.sender == gateway.address
    assert redeemed.args.recipient == orch
    assert redeemed.args.faceValue == ETH // 2
    assert redeemed.args.recipientRand == 123456789
    assert redeemed.args.auxData == t.ticket[6]
    (transfer,) = broker.events.WinningTicketTransfer().process_receipt(receipt, errors=DISCARD)
    assert transfer.args.amount == ETH // 2

    # The orchestrator can take the fees out as ETH.
    bm = chain.c("BondingManager")
    payee = chain.accounts[8]
    before = w3.eth.get_balance(payee)
    chain.send(bm.functions.withdrawFees(payee, ETH // 2), orch)
    assert w3.eth.get_balance(payee) - before == ETH // 2


def test_ticket_from_a_recent_round_is_still_valid(chain, broker, gateway, orch):
    chain.send(broker.functions.fundDeposit(), gateway.address, value=ETH)
    t = make_ticket(chain, gateway, orch, ETH // 10)
    chain.next_round()  # creationRound + ticketValidityPeriod (2) > currentRound still holds
    chain.send(broker.functions.redeemWinningTicket(*t.args), orch)
    assert pending_fees(chain, orch) == ETH // 10


def test_batch_redeem_skips_failures(chain, broker, gateway, orch):
    chain.send(broker.functions.fundDeposit(), gateway.address, value=ETH)
    good = make_ticket(chain, gateway, orch, ETH // 4, nonce=1)
    losing = make_ticket(chain, gateway, orch, ETH // 4, nonce=2, win_prob=0)
    good2 = make_ticket(chain, gateway, orch, ETH // 4, nonce=3)
    tickets = [good, losing, good2]
    chain.send(
        broker.functions.batchRedeemWinningTickets(
            [t.ticket for t in tickets], [t.sig for t in tickets], [t.recipient_rand for t in tickets]
        ),
        orch,
    )
    assert pending_fees(chain, orch) == ETH // 2
    used = [broker.functions.usedTickets(ticket_hash(t.ticket)).call() for t in tickets]
    assert used == [True, False, True]


# ------------------------------------------------------------------ refusals, each with its reason


def _refusal(chain, broker, gateway, orch, case: str) -> tuple:
    """Set the chain up for one invalid case; return (redeem args, expected reason)."""
    fund = lambda: chain.send(broker.functions.fundDeposit(), gateway.address, value=ETH)  # noqa: E731
    if case == "not won":
        fund()
        return make_ticket(chain, gateway, orch, ETH // 10, win_prob=0).args, "ticket did not win"
    if case == "expired":
        fund()
        t = make_ticket(chain, gateway, orch, ETH // 10)
        chain.next_round()
        chain.next_round()
        return t.args, "ticket is expired"
    if case == "used":
        fund()
        t = make_ticket(chain, gateway, orch, ETH // 10)
        chain.send(broker.functions.redeemWinningTicket(*t.args), orch)
        return t.args, "ticket is used"
    if case == "bad signature":
        fund()
        t = make_ticket(chain, dev_account(6), orch, ETH // 10, sender=gateway.address)
        return t.args, "invalid signature over ticket hash"
    if case == "malformed signature":
        fund()
        t = make_ticket(chain, gateway, orch, ETH // 10)
        return (t.ticket, t.sig[:64], t.recipient_rand), "invalid signature over ticket hash"
    if case == "wrong block hash":
        fund()
        rnd = chain.current_round()
        aux = rnd.to_bytes(32, "big") + keccak(b"not the round's block hash")
        return make_ticket(chain, gateway, orch, ETH // 10, aux_data=aux).args, (
            "ticket creationRoundBlockHash invalid for creationRound"
        )
    if case == "uninitialized round":
        fund()
        rnd = chain.current_round() + 1
        aux = rnd.to_bytes(32, "big") + b"\x11" * 32
        return make_ticket(chain, gateway, orch, ETH // 10, aux_data=aux).args, (
            "ticket creationRound does not have a block hash"
        )
    if case == "short auxData":
        fund()
        aux = ticket_aux_data(chain)[:63]
        return make_ticket(chain, gateway, orch, ETH // 10, aux_data=aux).args, (
            "invalid length for ticket auxData: must be 64 bytes"
        )
    if case == "wrong recipientRand":
        fund()
        t = make_ticket(chain, gateway, orch, ETH // 10, recipient_rand=1)
        return (t.ticket, t.sig, 2), "recipientRand does not match recipientRandHash"
    if case == "sender unlocked":
        fund()
        chain.send(broker.functions.unlock(), gateway.address)
        for _ in range(broker.functions.unlockPeriod().call()):
            chain.next_round()
        return make_ticket(chain, gateway, orch, ETH // 10).args, "sender is unlocked"
    if case == "no funds":
        return make_ticket(chain, gateway, orch, ETH // 10).args, "sender deposit and reserve are zero"
    if case == "recipient not registered":
        fund()
        return make_ticket(chain, gateway, chain.accounts[3], ETH // 10).args, "transcoder must be registered"
    if case == "zero recipient":
        fund()
        return make_ticket(chain, gateway, ZERO, ETH // 10).args, "ticket recipient is null address"
    if case == "zero sender":
        fund()
        return make_ticket(chain, gateway, orch, ETH // 10, sender=ZERO).args, "ticket sender is null address"
    raise AssertionError(case)


@pytest.mark.parametrize(
    "case",
    [
        "not won",
        "expired",
        "used",
        "bad signature",
        "malformed signature",
        "wrong block hash",
        "uninitialized round",
        "short auxData",
        "wrong recipientRand",
        "sender unlocked",
        "no funds",
        "recipient not registered",
        "zero recipient",
        "zero sender",
    ],
)
def test_invalid_ticket_is_refused_with_its_reason(chain, broker, gateway, orch, case):
    args, expected = _refusal(chain, broker, gateway, orch, case)
    fees = pending_fees(chain, orch)
    reason = chain.revert_reason(broker.functions.redeemWinningTicket(*args), orch)
    assert expected in reason
    assert pending_fees(chain, orch) == fees


def test_redeeming_needs_an_initialized_round(chain, broker, gateway, orch):
    chain.send(broker.functions.fundDeposit(), gateway.address, value=ETH)
    t = make_ticket(chain, gateway, orch, ETH // 10)
    chain.mine_to_next_round()
    reason = chain.revert_reason(broker.functions.redeemWinningTicket(*t.args), orch)
    assert "current round is not initialized" in reason


# ------------------------------------------------------------------ reserve


@pytest.fixture
def two_orchs(chain):
    """Two active orchestrators, so each may claim half of a reserve per round."""
    chain.next_round()
    a, b = chain.accounts[1], chain.accounts[2]
    register_orchestrator(chain, a, 1_000 * LPT)
    register_orchestrator(chain, b, 500 * LPT)
    chain.next_round()
    assert chain.c("BondingManager").functions.getTranscoderPoolSize().call() == 2
    return a, b


def test_reserve_pays_each_active_orchestrator_its_share(chain, broker, gateway, two_orchs):
    a, b = two_orchs
    chain.send(broker.functions.fundDepositAndReserve(ETH // 10, ETH), gateway.address, value=ETH + ETH // 10)
    assert broker.functions.claimableReserve(gateway.address, a).call() == ETH // 2
    assert broker.functions.claimableReserve(gateway.address, b).call() == ETH // 2
    assert broker.functions.claimableReserve(gateway.address, chain.accounts[3]).call() == 0  # not active

    # Face value 1 ETH: 0.1 from the deposit, the other 0.9 capped at a's 0.5 share of the reserve.
    t = make_ticket(chain, gateway, a, ETH, nonce=1)
    receipt = chain.send(broker.functions.redeemWinningTicket(*t.args), a)
    assert pending_fees(chain, a) == ETH // 10 + ETH // 2
    (claimed,) = broker.events.ReserveClaimed().process_receipt(receipt, errors=DISCARD)
    assert (claimed.args.reserveHolder, claimed.args.claimant, claimed.args.amount) == (gateway.address, a, ETH // 2)
    assert sender_info(broker, gateway.address) == (0, 0, ETH // 2, ETH // 2)
    assert broker.functions.claimedReserve(gateway.address, a).call() == ETH // 2
    assert broker.functions.claimableReserve(gateway.address, a).call() == 0
    assert broker.functions.claimableReserve(gateway.address, b).call() == ETH // 2

    # a has used up its share this round: the ticket is accepted but pays nothing.
    t2 = make_ticket(chain, gateway, a, ETH, nonce=2)
    receipt = chain.send(broker.functions.redeemWinningTicket(*t2.args), a)
    assert broker.events.WinningTicketTransfer().process_receipt(receipt, errors=DISCARD) == ()
    assert pending_fees(chain, a) == ETH // 10 + ETH // 2

    # b still gets its own half.
    t3 = make_ticket(chain, gateway, b, ETH, nonce=3)
    chain.send(broker.functions.redeemWinningTicket(*t3.args), b)
    assert pending_fees(chain, b) == ETH // 2
    assert sender_info(broker, gateway.address) == (0, 0, 0, ETH)

    # The next round starts with fresh shares of what is left (nothing).
    chain.next_round()
    assert broker.functions.getReserveInfo(gateway.address).call() == (0, 0)


# ------------------------------------------------------------------ ABI conformance (protocol.md §2.5, §2.11)

EXPECTED_SELECTORS = {
    "fundDeposit()": "0x6caa736b",
    "fundReserve()": "0x6f9c3c8f",
    "fundDepositAndReserve(uint256,uint256)": "0x511f4073",
    "redeemWinningTicket((address,address,uint256,uint256,uint256,bytes32,bytes),bytes,uint256)": "0xec8b3cb6",
    "getSenderInfo(address)": "0xe1a589da",
    "claimableReserve(address,address)": "0x81779f38",
    "unlock()": "0xa69df4b5",
    "withdraw()": "0x3ccfd60b",
}
EXPECTED_TOPIC_PREFIXES = {
    "WinningTicketRedeemed(address,address,uint256,uint256,uint256,uint256,bytes)": "0xc389eb51",
    "DepositFunded(address,uint256)": "0x5159e237",
}
EXPECTED_SURFACE = {
    "fundDepositAndReserveFor(address,uint256,uint256)",
    "cancelUnlock()",
    "batchRedeemWinningTickets((address,address,uint256,uint256,uint256,bytes32,bytes)[],bytes[],uint256[])",
    "getReserveInfo(address)",
    "claimedReserve(address,address)",
    "isUnlockInProgress(address)",
    "getTicketHash((address,address,uint256,uint256,uint256,bytes32,bytes))",
    "usedTickets(bytes32)",
    "unlockPeriod()",
    "ticketValidityPeriod()",
    "setUnlockPeriod(uint256)",
    "setTicketValidityPeriod(uint256)",
}
EXPECTED_EVENTS = {
    "DepositFunded(address,uint256)": [True, False],
    "ReserveFunded(address,uint256)": [True, False],
    "ReserveClaimed(address,address,uint256)": [True, False, False],
    "WinningTicketRedeemed(address,address,uint256,uint256,uint256,uint256,bytes)": [True, True] + [False] * 5,
    "WinningTicketTransfer(address,address,uint256)": [True, True, False],
    "Unlock(address,uint256,uint256)": [True, False, False],
    "UnlockCancelled(address)": [True],
    "Withdrawal(address,uint256,uint256)": [True, False, False],
    "ParameterUpdate(string)": [False],
}


def test_ticket_broker_abi_matches_mainnet():
    functions = abi_index("TicketBroker", "function")
    for sig, selector in EXPECTED_SELECTORS.items():
        assert sig in functions, sig
        assert "0x" + keccak(text=sig)[:4].hex() == selector
    assert EXPECTED_SURFACE <= set(functions)
    events = abi_index("TicketBroker", "event")
    for sig, prefix in EXPECTED_TOPIC_PREFIXES.items():
        assert sig in events and "0x" + keccak(text=sig).hex()[:8] == prefix
    for sig, indexed in EXPECTED_EVENTS.items():
        assert [i["indexed"] for i in events[sig]["inputs"]] == indexed, sig
    info = functions["getSenderInfo(address)"]["outputs"]
    assert json.dumps([(o["name"], [c["name"] for c in o["components"]]) for o in info]) == json.dumps(
        [("sender", ["deposit", "withdrawRound"]), ("reserve", ["fundsRemaining", "claimedInCurrentRound"])]
    )
    assert MAX_WIN_PROB == 2**256 - 1
