"""Small helpers for chain tests: send as an unlocked account, mine, cross rounds."""

from __future__ import annotations

from dataclasses import dataclass

from web3 import Web3
from web3.exceptions import ContractLogicError

from chain.devnet.deploy import Deployment

LPT = 10**18


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
