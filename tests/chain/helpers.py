"""Small helpers for chain tests: send as an unlocked account, mine, cross rounds."""

from __future__ import annotations

from dataclasses import dataclass

from web3 import Web3
from web3.exceptions import ContractLogicError

from chain.devnet.deploy import Deployment

LPT = 10**18
ETH = 10**18
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


@dataclass
class ChainHelper:
    w3: Web3
    protocol: Deployment
    accounts: list[str]

    def c(self, name: str):
        """The web3 contract registered under `name` (or PollCreator / AIServiceRegistry / Multicall3)."""
        return self.protocol.contract(self.w3, name)

    @property
    def deployer(self) -> str:
        return self.accounts[0]

    def send(self, fn, sender: str, value: int = 0):
        """Send a contract call as an unlocked account and return the receipt; raise on revert."""
        tx = fn.transact({"from": sender, "value": value})
        receipt = self.w3.eth.wait_for_transaction_receipt(tx)
        assert receipt.status == 1, f"{fn.fn_name} reverted"
        return receipt

    def revert_reason(self, fn, sender: str, value: int = 0) -> str:
        """Call `fn` expecting a revert; return the revert reason."""
        try:
            fn.call({"from": sender, "value": value})
        except ContractLogicError as exc:
            return str(exc.message or exc)
        raise AssertionError(f"{fn.fn_name} did not revert")

    def mine(self, blocks: int = 1) -> None:
        self.w3.provider.make_request("anvil_mine", [hex(blocks)])

    def block_num(self) -> int:
        """The protocol's "L1" block number (RoundsManager.blockNum), not eth_blockNumber."""
        return self.c("RoundsManager").functions.blockNum().call()

    def current_round(self) -> int:
        return self.c("RoundsManager").functions.currentRound().call()

    def mine_to_next_round(self) -> int:
        rm = self.c("RoundsManager")
        length = rm.functions.roundLength().call()
        start = rm.functions.currentRoundStartBlock().call()
        self.mine(start + length - self.block_num())
        return self.current_round()

    def next_round(self) -> int:
        """Mine to the start of the next round and initialize it. Returns the new round."""
        rnd = self.mine_to_next_round()
        self.send(self.c("RoundsManager").functions.initializeRound(), self.deployer)
        return rnd

    def mint_lpt(self, to: str, amount: int) -> None:
        self.send(self.c("LivepeerToken").functions.mint(to, amount), self.deployer)

    def bond(self, delegator: str, amount: int, to: str) -> None:
        self.mint_lpt(delegator, amount)
        self.send(self.c("LivepeerToken").functions.approve(self.protocol.address("BondingManager"), amount), delegator)
        self.send(self.c("BondingManager").functions.bond(amount, to), delegator)

    def impersonate(self, address: str, eth: int = 10 * ETH) -> str:
        """Let tests send transactions as `address` (e.g. a protocol contract); funds it for gas."""
        address = Web3.to_checksum_address(address)
        self.w3.provider.make_request("anvil_setBalance", [address, hex(eth)])
        self.w3.provider.make_request("anvil_impersonateAccount", [address])
        return address

    def stop_impersonating(self, address: str) -> None:
        self.w3.provider.make_request("anvil_stopImpersonatingAccount", [address])

    def mine_to_round_offset(self, offset: int) -> None:
        """Mine so that the latest block sits `offset` "L1" blocks into the current round."""
        start = self.c("RoundsManager").functions.currentRoundStartBlock().call()
        target = start + offset
        assert target >= self.block_num(), "that point of the round has passed"
        if target > self.block_num():
            self.mine(target - self.block_num())

    def register_transcoder(self, addr: str, stake: int, reward_cut: int = 0, fee_share: int = 0) -> None:
        """Self-bond and set rates (call early in an initialized round, outside the lock period)."""
        self.bond(addr, stake, addr)
        self.send(self.c("BondingManager").functions.transcoder(reward_cut, fee_share), addr)

    def pool_order(self) -> list[str]:
        bm = self.c("BondingManager")
        out = []
        cur = bm.functions.getFirstTranscoderInPool().call()
        while cur != ZERO_ADDRESS:
            out.append(cur)
            cur = bm.functions.getNextTranscoderInPool(cur).call()
        return out

    def delegator(self, addr: str) -> dict:
        keys = ("bondedAmount", "fees", "delegateAddress", "delegatedAmount", "startRound", "lastClaimRound",
                "nextUnbondingLockId")
        return dict(zip(keys, self.c("BondingManager").functions.getDelegator(addr).call()))

    def transcoder_info(self, addr: str) -> dict:
        keys = ("lastRewardRound", "rewardCut", "feeShare", "lastActiveStakeUpdateRound", "activationRound",
                "deactivationRound", "activeCumulativeRewards", "cumulativeRewards", "cumulativeFees",
                "lastFeeRound")
        return dict(zip(keys, self.c("BondingManager").functions.getTranscoder(addr).call()))

    def earnings_pool(self, addr: str, rnd: int) -> dict:
        keys = ("totalStake", "transcoderRewardCut", "transcoderFeeShare", "cumulativeRewardFactor",
                "cumulativeFeeFactor")
        fn = self.c("BondingManager").functions.getTranscoderEarningsPoolForRound(addr, rnd)
        return dict(zip(keys, fn.call()))


# ------------------------------------------------------------------ tickets, orchestrators, errors

MAX_WIN_PROB = 2**256 - 1  # a ticket with this winProb always wins


@dataclass(frozen=True)
class SignedTicket:
    """A TicketBroker ticket as the ABI tuple, with the sender's signature and the recipient's secret."""

    ticket: tuple  # (recipient, sender, faceValue, winProb, senderNonce, recipientRandHash, auxData)
    sig: bytes
    recipient_rand: int

    @property
    def args(self) -> tuple:
        return (self.ticket, self.sig, self.recipient_rand)


def ticket_hash(ticket: tuple) -> bytes:
    """keccak256(abi.encodePacked(recipient, sender, faceValue, winProb, senderNonce, recipientRandHash, auxData))."""
    from eth_abi.packed import encode_packed
    from eth_utils import keccak

    types = ["address", "address", "uint256", "uint256", "uint256", "bytes32", "bytes"]
    return keccak(encode_packed(types, list(ticket)))


def ticket_aux_data(chain: ChainHelper, creation_round: int | None = None) -> bytes:
    """creationRound ‖ RoundsManager.blockHashForRound(creationRound), 64 bytes."""
    rnd = chain.current_round() if creation_round is None else creation_round
    block_hash = chain.c("RoundsManager").functions.blockHashForRound(rnd).call()
    return rnd.to_bytes(32, "big") + bytes(block_hash)


def make_ticket(
    chain: ChainHelper,
    signer,  # an eth_account LocalAccount: the ticket's sender
    recipient: str,
    face_value: int,
    *,
    win_prob: int = MAX_WIN_PROB,
    nonce: int = 0,
    recipient_rand: int = 0x5EED,
    aux_data: bytes | None = None,
    sender: str | None = None,
) -> SignedTicket:
    """Build a ticket and sign its hash (eth-signed-message) with `signer`'s key."""
    from eth_account.messages import encode_defunct
    from eth_utils import keccak

    ticket = (
        Web3.to_checksum_address(recipient),
        sender if sender is not None else signer.address,
        face_value,
        win_prob,
        nonce,
        keccak(recipient_rand.to_bytes(32, "big")),
        ticket_aux_data(chain) if aux_data is None else aux_data,
    )
    sig = signer.sign_message(encode_defunct(primitive=ticket_hash(ticket))).signature
    return SignedTicket(ticket=ticket, sig=bytes(sig), recipient_rand=recipient_rand)


def register_orchestrator(
    chain: ChainHelper, addr: str, stake: int, reward_cut: int = 0, fee_share: int = 0
) -> None:
    """Self-bond and set rates (call at the start of a round); it becomes active next round."""
    chain.bond(addr, stake, addr)
    chain.send(chain.c("BondingManager").functions.transcoder(reward_cut, fee_share), addr)


def custom_error_data(chain: ChainHelper, fn, sender: str) -> str:
    """Call `fn` expecting a custom-error revert; return the revert data as 0x-hex."""
    from web3.exceptions import ContractCustomError

    try:
        fn.call({"from": sender})
    except ContractCustomError as exc:
        data = exc.data if isinstance(exc.data, str) else exc.message
        return data if data.startswith("0x") else "0x" + data
    raise AssertionError(f"{fn.fn_name} did not revert with a custom error")


# --- staking helpers (additive) -------------------------------------------------------------------


def events(receipt, contract, name: str) -> list:
    """Decoded `name` events that `contract` emitted in `receipt` (logs of other contracts ignored)."""
    event = getattr(contract.events, name)()
    out = []
    for log in receipt["logs"]:
        if log["address"] != contract.address:
            continue
        try:
            out.append(event.process_log(log))
        except Exception:  # another event of the same contract
            continue
    return out
