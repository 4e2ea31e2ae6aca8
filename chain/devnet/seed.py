"""Deploy the protocol and seed a devnet that looks like the real network.

The seeded network (deterministic, so screenshots and tests are stable):
- 12 orchestrators (dev accounts 1–12; more for benchmarks, as impersonated generated addresses) with
  varied self-stake, reward cut, fee share and service URIs; the top `num_active_transcoders` are active;
- 30 delegators (dev accounts 20–49) bonded across them, some with LPT left unbonded;
- 3 gateways (dev accounts 50–52) with TicketBroker deposits, paying winning tickets every round;
- about 14 rounds of history: reward calls (some missed), fees from redeemed winning tickets,
  unbonding locks in flight, a withdrawal, a rebond;
- one decided (executed) treasury proposal, one active proposal, one LIP poll still open;
- an ETH/USD price feed that moved over the history (a new round every few protocol rounds) and ends
  at its deployed answer, 3,000.00 USD (the seeding mines blocks but does not advance the clock, so
  these feed rounds are seconds apart);
- the last round initialized with only part of the orchestrators having called reward.

Run `python -m chain.devnet.seed --package` to rebuild the seeded state shipped in the package
(chain/devnet/state/), which lets a fresh data dir start in about a second.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from dataclasses import dataclass, replace
from typing import Callable

from eth_account.messages import encode_defunct
from eth_utils import keccak, to_checksum_address
from web3 import Web3

from chain.devnet.accounts import dev_account
from chain.devnet.deploy import Deployment, DevnetParams, deploy_protocol

LPT = 10**18
ETH = 10**18
MAX_WIN_PROB = 2**256 - 1
DEFAULT_ACCOUNT_INDEX = 1
MAINNET_ROUND_LENGTH = 5760  # L1 blocks per round at the protocol's deployment
SEED_ROUND_LENGTH = 100  # the account a new data dir starts with: orchestrator #1

ORCHESTRATOR_NAMES = [
    "atlas-video", "blue-harbor", "cinder-transcode", "driftwood", "eastgate-gpu", "foxglove",
    "granite-node", "helix-stream", "ironbark", "juniper-lab", "kestrel-media", "lumen-edge",
]
# (self stake LPT, reward cut %, fee share %) — varied like the real network
ORCHESTRATOR_PROFILES = [
    (420_000, 8, 50), (310_000, 5, 75), (260_000, 25, 40), (205_000, 10, 60), (150_000, 15, 80),
    (120_000, 3, 90), (96_000, 50, 25), (70_000, 12, 55), (52_000, 100, 0), (38_000, 20, 70),
    (21_000, 9, 45), (9_000, 30, 65),
]

# ETH/USD answers (USD cents per ETH) set at the start of some history rounds; the seed ends with the
# feed's deployed answer (DevnetParams.eth_usd_answer).
ETH_USD_HISTORY_CENTS = {0: 291_240, 3: 310_475, 6: 298_710, 9: 305_125}

Progress = Callable[[str, float], None]


@dataclass
class _Tx:
    w3: Web3

    def send(self, fn, sender: str, value: int = 0, gas: int = 6_000_000):
        tx_hash = fn.transact({"from": sender, "value": value, "gas": gas})
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash)
        if receipt.status != 1:
            try:
                fn.call({"from": sender, "value": value}, block_identifier=receipt.blockNumber - 1)
                reason = "out of gas or unknown"
            except Exception as exc:  # noqa: BLE001
                reason = str(exc)
            raise RuntimeError(f"seeding: {fn.fn_name} from {sender} failed: {reason}")
        return receipt


class Seeder:
    def __init__(self, w3: Web3, deployment: Deployment, orchestrators: int, progress: Progress):
        self.w3 = w3
        self.d = deployment
        self.tx = _Tx(w3)
        self.progress = progress
        accounts = [to_checksum_address(a) for a in w3.eth.accounts]
        self.deployer = accounts[0]
        self.orchs = accounts[1 : 1 + min(orchestrators, 12)]
        self.extra_orchs: list[str] = []
        for i in range(max(0, orchestrators - 12)):
            addr = to_checksum_address(keccak(text=f"lpc-devnet-orchestrator-{i}")[-20:])
            w3.provider.make_request("anvil_impersonateAccount", [addr])
            w3.provider.make_request("anvil_setBalance", [addr, hex(100 * ETH)])
            self.extra_orchs.append(addr)
        self.delegators = accounts[20:50]
        self.gateway_keys = [dev_account(i) for i in (50, 51, 52)]
        self.c = {n: deployment.contract(w3, n) for n in (
            "LivepeerToken", "BondingManager", "RoundsManager", "TicketBroker", "ServiceRegistry",
            "LivepeerGovernor", "Treasury", "PollCreator", "AIServiceRegistry", "Minter", "PriceFeed",
        )}
        self.nonces: dict[str, int] = {}

    # -- helpers --------------------------------------------------------------------------------
    def send(self, contract: str, fn: str, *args, sender: str, value: int = 0):
        """Send as `sender`, first opening a new round if blocks mined by earlier sends ended the last
        one (each transaction mines a block and devnet rounds are short), and leaving the lock window
        for calls the protocol refuses in it."""
        if not (contract == "RoundsManager" and fn == "initializeRound"):
            rm = self.c["RoundsManager"].functions
            start, length, now = rm.currentRoundStartBlock().call(), rm.roundLength().call(), rm.blockNum().call()
            if now + 2 >= start + length:  # the transaction would land at (or just before) a round change
                self.next_round()
            elif not rm.currentRoundInitialized().call():
                self.tx.send(rm.initializeRound(), self.deployer)
        return self.tx.send(getattr(self.c[contract].functions, fn)(*args), sender, value)

    def round(self) -> int:
        return self.c["RoundsManager"].functions.currentRound().call()

    def next_round(self) -> int:
        rm = self.c["RoundsManager"].functions
        start, length, now = rm.currentRoundStartBlock().call(), rm.roundLength().call(), rm.blockNum().call()
        self.w3.provider.make_request("anvil_mine", [hex(start + length - now)])
        self.send("RoundsManager", "initializeRound", sender=self.deployer)
        return self.round()

    def mine(self, blocks: int) -> None:
        self.w3.provider.make_request("anvil_mine", [hex(blocks)])

    def fund_lpt(self, to: str, amount: int) -> None:
        self.send("LivepeerToken", "mint", to, amount, sender=self.deployer)

    def bond(self, who: str, amount: int, to: str) -> None:
        self.send("LivepeerToken", "approve", self.d.address("BondingManager"), amount, sender=who)
        self.send("BondingManager", "bond", amount, to, sender=who)

    def set_rates(self, orch: str, reward_cut: int, fee_share: int) -> None:
        """transcoder(): an active orchestrator must call reward in the round first (protocol rule)."""
        bm = self.c["BondingManager"].functions
        rm = self.c["RoundsManager"].functions
        start, length, now = rm.currentRoundStartBlock().call(), rm.roundLength().call(), rm.blockNum().call()
        if rm.currentRoundLocked().call() or start + length - now < 6:  # keep clear of the lock window
            self.next_round()
        if bm.isActiveTranscoder(orch).call() and bm.getTranscoder(orch).call()[0] != self.round():
            self.send("BondingManager", "reward", sender=orch)
        self.send("BondingManager", "transcoder", reward_cut, fee_share, sender=orch)

    def pay_winning_ticket(self, gateway_index: int, recipient: str, face_value: int) -> None:
        """A gateway signs a ticket that wins (win probability 1) and the recipient redeems it."""
        key = self.gateway_keys[gateway_index]
        rnd = self.round()
        block_hash = self.c["RoundsManager"].functions.blockHashForRound(rnd).call()
        aux = rnd.to_bytes(32, "big") + bytes(block_hash)
        nonce = self.nonces.get(key.address, 0) + 1
        self.nonces[key.address] = nonce
        rand = int.from_bytes(keccak(text=f"seed-rand-{key.address}-{nonce}"), "big")
        rand_hash = keccak(rand.to_bytes(32, "big"))
        ticket_hash = keccak(
            bytes.fromhex(recipient[2:]) + bytes.fromhex(key.address[2:]) + face_value.to_bytes(32, "big")
            + MAX_WIN_PROB.to_bytes(32, "big") + nonce.to_bytes(32, "big") + rand_hash + aux
        )
        sig = key.sign_message(encode_defunct(primitive=ticket_hash)).signature
        ticket = (recipient, key.address, face_value, MAX_WIN_PROB, nonce, rand_hash, aux)
        self.send("TicketBroker", "redeemWinningTicket", ticket, bytes(sig), rand, sender=recipient)

    # -- the story --------------------------------------------------------------------------------
    def run(self, final_round_length: int | None = None) -> None:
        p = self.progress
        bm = self.c["BondingManager"].functions
        self.next_round()
        p("registering orchestrators", 0.15)
        all_orchs = self.orchs + self.extra_orchs
        for i, orch in enumerate(all_orchs):
            stake, cut, share = ORCHESTRATOR_PROFILES[i % len(ORCHESTRATOR_PROFILES)]
            if i >= len(ORCHESTRATOR_PROFILES):
                stake = max(1_000, stake // (1 + i // len(ORCHESTRATOR_PROFILES)) + i)
            self.fund_lpt(orch, (stake + 5_000) * LPT)
            self.bond(orch, stake * LPT, orch)
            self.set_rates(orch, cut * 10_000, share * 10_000)
            name = ORCHESTRATOR_NAMES[i] if i < len(ORCHESTRATOR_NAMES) else f"bench-{i:04d}"
            self.send("ServiceRegistry", "setServiceURI", f"https://{name}.devnet.lpc:8935", sender=orch)
            if i < 4:
                self.send("AIServiceRegistry", "setServiceURI", f"https://{name}.devnet.lpc:8936", sender=orch)
        p("bonding delegators", 0.3)
        for j, dele in enumerate(self.delegators):
            amount = (1_000 + (j * 7919) % 60_000) * LPT
            self.fund_lpt(dele, amount + (j % 4) * 2_500 * LPT)
            self.bond(dele, amount, self.orchs[(j * 5) % len(self.orchs)])
        p("funding gateways", 0.4)
        for key in self.gateway_keys:
            self.send("TicketBroker", "fundDepositAndReserve", 2 * ETH, 1 * ETH, sender=key.address, value=3 * ETH)
        self.fund_lpt(self.d.address("Treasury"), 50_000 * LPT)

        treasury_proposal = None
        history_rounds = 13
        for k in range(history_rounds):
            rnd = self.next_round()
            p(f"seeding round {rnd} ({k + 1}/{history_rounds})", 0.45 + 0.45 * k / history_rounds)
            if k in ETH_USD_HISTORY_CENTS:
                self.send("PriceFeed", "updateAnswer", ETH_USD_HISTORY_CENTS[k] * 10**6, sender=self.deployer)
            if k == history_rounds - 1:
                self.send("PriceFeed", "updateAnswer", self.d.params.eth_usd_answer, sender=self.deployer)
            for i, orch in enumerate(self.orchs):
                if not bm.isActiveTranscoder(orch).call():
                    continue
                missed = (i == 7 and k % 3 == 1) or (i == 4 and k in (5, 6)) or (i == 9 and k % 4 == 2)
                if not missed:
                    self.send("BondingManager", "reward", sender=orch)
            for orch in self.extra_orchs:
                if bm.isActiveTranscoder(orch).call():
                    self.send("BondingManager", "reward", sender=orch)
            for g in range(3):
                recipient = self.orchs[(k + g * 3) % 6]
                self.pay_winning_ticket(g, recipient, (10 + 5 * g + k) * ETH // 1000)
            if k == 1:
                treasury_proposal = self.propose_treasury_grant()
            if k == 2 and treasury_proposal is not None:
                self.vote_on(treasury_proposal, [(0, 1), (1, 1), (2, 1), (3, 0), (4, 1)], delegator_override=(0, 0))
            if k in (3, 6, 9):
                dele = self.delegators[k]
                half = bm.getDelegator(dele).call()[0] // 3
                self.send("BondingManager", "unbond", half, sender=dele)
            if k == 4:
                self.send("BondingManager", "unbond", bm.getDelegator(self.delegators[1]).call()[0] // 2, sender=self.delegators[1])
            if k == 5:
                self.send("BondingManager", "rebond", 0, sender=self.delegators[1])
            if k == 11:
                self.send("BondingManager", "withdrawStake", 0, sender=self.delegators[3])
                fees = bm.pendingFees(self.orchs[0], 0).call()
                if fees:
                    self.send("BondingManager", "withdrawFees", self.orchs[0], fees // 2, sender=self.orchs[0])
            if k == 8:
                self.create_poll()
            if k == 12:
                self.finish_treasury_proposal(treasury_proposal)
                self.propose_active()
        p("opening the current round", 0.93)
        if final_round_length:
            self.tx.send(self.c["RoundsManager"].functions.setRoundLength(final_round_length), self.deployer)
        self.next_round()
        for i, orch in enumerate(self.orchs):
            if i % 2 == 0 and bm.isActiveTranscoder(orch).call():
                self.send("BondingManager", "reward", sender=orch)

    # -- governance -------------------------------------------------------------------------------
    def _grant_call(self, amount: int, grantee: str):
        token = self.c["LivepeerToken"]
        data = token.functions.transfer(grantee, amount)._encode_transaction_data()
        return [token.address], [0], [bytes.fromhex(data[2:])]

    def propose_treasury_grant(self):
        targets, values, calldatas = self._grant_call(5_000 * LPT, self.delegators[29])
        description = (
            "# LIP-D1: Fund the devnet tooling grant\n\n"
            "Transfer 5,000 LPT from the treasury to the tooling team's multisig for six months of work."
        )
        self.send("LivepeerGovernor", "propose", targets, values, calldatas, description, sender=self.orchs[0])
        return targets, values, calldatas, description

    def vote_on(self, proposal, orch_votes, delegator_override=None) -> None:
        targets, values, calldatas, description = proposal
        gov = self.c["LivepeerGovernor"].functions
        pid = gov.hashProposal(targets, values, calldatas, keccak(text=description)).call()
        while gov.state(pid).call() == 0:  # Pending: wait for the voting delay
            self.next_round()
        reasons = {1: "Worth funding.", 0: "Too expensive for the scope.", 2: ""}
        for idx, support in orch_votes:
            self.send("LivepeerGovernor", "castVoteWithReason", pid, support, reasons[support], sender=self.orchs[idx])
        if delegator_override is not None:
            orch_idx, support = delegator_override
            dele = next(d for j, d in enumerate(self.delegators) if (j * 5) % len(self.orchs) == orch_idx)
            self.send("LivepeerGovernor", "castVoteWithReason", pid, support, "I disagree with my orchestrator.", sender=dele)

    def finish_treasury_proposal(self, proposal) -> None:
        if proposal is None:
            return
        targets, values, calldatas, description = proposal
        gov = self.c["LivepeerGovernor"].functions
        pid = gov.hashProposal(targets, values, calldatas, keccak(text=description)).call()
        guard = 0
        while gov.state(pid).call() == 1 and guard < 20:  # Active: let the voting period end
            self.next_round()
            guard += 1
        if gov.state(pid).call() == 4:  # Succeeded
            desc_hash = keccak(text=description)
            self.send("LivepeerGovernor", "queue", targets, values, calldatas, desc_hash, sender=self.deployer)
            self.send("LivepeerGovernor", "execute", targets, values, calldatas, desc_hash, sender=self.deployer)

    def propose_active(self) -> None:
        targets, values, calldatas = self._grant_call(12_000 * LPT, self.delegators[28])
        description = (
            "# LIP-D2: Treasury grant for a public GPU benchmark suite\n\n"
            "Transfer 12,000 LPT to fund an open benchmark of transcoding and AI pipelines across GPUs."
        )
        self.send("LivepeerGovernor", "propose", targets, values, calldatas, description, sender=self.orchs[1])
        proposal = (targets, values, calldatas, description)
        self.vote_on(proposal, [(1, 1), (2, 0)])

    def create_poll(self) -> None:
        # An IPFS CIDv0 multihash (0x1220 + sha256) of a LIP text, as the Explorer submits it.
        proposal = bytes.fromhex("1220") + keccak(text="LIP-D3: lower the unbonding period to 5 rounds")
        receipt = self.send("PollCreator", "createPoll", proposal, sender=self.orchs[1])
        events = self.c["PollCreator"].events.PollCreated().process_receipt(receipt)
        poll_addr = events[0]["args"]["poll"]
        from chain.devnet.artifacts import load_artifact

        poll = self.w3.eth.contract(address=poll_addr, abi=load_artifact("Poll").abi)
        for idx, choice in ((0, 0), (1, 0), (2, 1), (5, 0)):
            self.tx.send(poll.functions.vote(choice), self.orchs[idx])
        self.tx.send(poll.functions.vote(1), self.delegators[0])


def seed_network(rpc_url: str, *, orchestrators: int = 12, progress: Progress | None = None) -> Deployment:
    """Deploy the protocol to the (fresh) anvil at `rpc_url` and seed it. Returns the deployment."""
    progress = progress or (lambda _m, _f: None)
    w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": 120}))
    deployer = to_checksum_address(w3.eth.accounts[0])
    progress("deploying the protocol contracts", 0.05)
    # Anchor the round numbering with mainnet's original round length so round numbers look like the
    # real network's (a few thousand), seed the history in roomy 100-block rounds (so every
    # orchestrator's reward call fits in its round), then switch to the devnet's short live rounds.
    live = DevnetParams()
    deployment = deploy_protocol(w3, deployer, replace(live, round_length=MAINNET_ROUND_LENGTH))
    seeder = Seeder(w3, deployment, orchestrators, progress)
    seeder.tx.send(seeder.c["RoundsManager"].functions.setRoundLength(SEED_ROUND_LENGTH), deployer)
    seeder.run(final_round_length=live.round_length)
    return replace(deployment, params=live)


def _package_state(orchestrators: int) -> int:
    """Build the seeded state once and store it in chain/devnet/state/ (a developer tool)."""
    from chain.devnet.anvil import check_anvil, find_anvil, free_port, rpc_call, start_anvil
    from chain.devnet.manager import PACKAGED_DEPLOYMENT, PACKAGED_STATE, state_meta

    binary = find_anvil()
    check_anvil(binary)
    proc = start_anvil(binary, port=free_port())
    try:
        deployment = seed_network(proc.rpc_url, orchestrators=orchestrators,
                                  progress=lambda m, f: print(f"[{f:4.0%}] {m}", file=sys.stderr))
        dumped = rpc_call(proc.rpc_url, "anvil_dumpState", timeout=120)
    finally:
        proc.stop()
    PACKAGED_STATE.parent.mkdir(parents=True, exist_ok=True)
    raw = gzip.decompress(bytes.fromhex(dumped[2:]))
    PACKAGED_STATE.write_bytes(gzip.compress(raw, mtime=0))
    PACKAGED_DEPLOYMENT.write_text(json.dumps(state_meta(deployment, orchestrators), indent=1) + "\n")
    print(f"wrote {PACKAGED_STATE} ({PACKAGED_STATE.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--package", action="store_true", help="rebuild the packaged seeded state")
    parser.add_argument("--orchestrators", type=int, default=12)
    args = parser.parse_args()
    if args.package:
        sys.exit(_package_state(args.orchestrators))
    parser.print_help()
