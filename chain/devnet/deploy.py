"""Deploy our ABI-compatible Livepeer protocol contracts to an anvil node and register them.

Everything is registered in the Controller by keccak256(name), as on Arbitrum One, so clients only
ever need the Controller address. Two contracts that mainnet does not register (the PollCreator and
the AI service registry) are returned separately. Multicall3 is placed at its usual address. Last comes
an ETH/USD price feed with Chainlink's ABI (not part of the protocol; go-livepeer's `-priceFeedAddr`),
deployed after everything else so that adding it moved no other contract's address.

Constructor conventions (every protocol contract):
- `Controller()`; `LivepeerToken()` (AccessControl: MINTER_ROLE / BURNER_ROLE granted to the Minter);
- `Minter(controller, inflation, inflationChange, targetBondingRate)`;
- `RoundsManager(controller)`, `BondingManager(controller)`, `BondingVotes(controller)`,
  `TicketBroker(controller)`, `ServiceRegistry(controller)`, `PollCreator(controller)`;
- `Treasury(minDelay, proposers[], executors[], admin)` (OpenZeppelin 4.9 TimelockController);
- `LivepeerGovernor(controller, votingDelay, votingPeriod, proposalThreshold, quorumNumerator, quota)`,
  which reads BondingVotes and Treasury from the Controller when constructed;
- parameters are then set by the Controller owner with the deployed setters;
- `EthUsdPriceFeed(initialAnswer)` (USD per ETH, 8 decimals), owned by the deployer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from eth_utils import keccak, to_checksum_address
from web3 import Web3

from chain.devnet.artifacts import load_artifact

MULTICALL3_ADDRESS = "0xcA11bde05977b3631167028862bE2a173976CA11"
ZERO_COMMIT = b"\x00" * 20


@dataclass(frozen=True)
class DevnetParams:
    round_length: int = 20  # "L1" blocks per round
    round_lock_amount: int = 100_000  # last 10 % of a round is locked
    unbonding_period: int = 7  # rounds
    num_active_transcoders: int = 10
    inflation: int = 137  # per 1e9 per round (protocol's own dev config)
    inflation_change: int = 3
    target_bonding_rate: int = 500_000_000  # 50 %
    treasury_reward_cut_rate: int = 10**26  # 10 % in 1e27 units
    treasury_balance_ceiling: int = 750_000 * 10**18
    unlock_period: int = 2
    ticket_validity_period: int = 2
    voting_delay: int = 1  # rounds
    voting_period: int = 10  # rounds
    proposal_threshold: int = 100 * 10**18
    quorum_numerator: int = 333_300
    quota: int = 500_000
    treasury_min_delay: int = 0
    eth_usd_answer: int = 3_000 * 10**8  # the price feed's first answer: 3,000.00 USD per ETH (8 decimals)


@dataclass(frozen=True)
class Deployment:
    controller: str
    contracts: dict[str, str]  # registered name -> address
    poll_creator: str
    ai_service_registry: str
    multicall3: str = MULTICALL3_ADDRESS
    deployer: str = ""
    params: DevnetParams = field(default_factory=DevnetParams)
    price_feed: str | None = None  # the ETH/USD feed (None in deployments from before it existed)

    def address(self, name: str) -> str:
        if name == "Controller":
            return self.controller
        if name == "PollCreator":
            return self.poll_creator
        if name == "AIServiceRegistry":
            return self.ai_service_registry
        if name == "Multicall3":
            return self.multicall3
        if name == "PriceFeed":
            if self.price_feed is None:
                raise KeyError("this deployment has no price feed")
            return self.price_feed
        return self.contracts[name]

    def contract(self, w3: Web3, name: str, artifact: str | None = None):
        art = load_artifact(artifact or _ARTIFACT_FOR.get(name, name))
        return w3.eth.contract(address=self.address(name), abi=art.abi)

    def to_json(self) -> dict:
        return {
            "controller": self.controller,
            "contracts": dict(self.contracts),
            "poll_creator": self.poll_creator,
            "ai_service_registry": self.ai_service_registry,
            "multicall3": self.multicall3,
            "deployer": self.deployer,
            "price_feed": self.price_feed,
        }

    @classmethod
    def from_json(cls, data: dict, params: DevnetParams | None = None) -> "Deployment":
        return cls(
            controller=data["controller"],
            contracts=dict(data["contracts"]),
            poll_creator=data["poll_creator"],
            ai_service_registry=data["ai_service_registry"],
            multicall3=data.get("multicall3", MULTICALL3_ADDRESS),
            deployer=data.get("deployer", ""),
            params=params or DevnetParams(),
            price_feed=data.get("price_feed"),
        )


_ARTIFACT_FOR = {"AIServiceRegistry": "ServiceRegistry", "JobsManager": "TicketBroker", "PriceFeed": "EthUsdPriceFeed"}


def contract_id(name: str) -> bytes:
    return keccak(text=name)


class _Deployer:
    def __init__(self, w3: Web3, sender: str):
        self.w3 = w3
        self.sender = to_checksum_address(sender)

    def deploy(self, artifact_name: str, *args):
        art = load_artifact(artifact_name)
        factory = self.w3.eth.contract(abi=art.abi, bytecode=art.bytecode)
        tx = factory.constructor(*args).transact({"from": self.sender})
        receipt = self.w3.eth.wait_for_transaction_receipt(tx)
        if receipt.status != 1:
            raise RuntimeError(f"deploying {artifact_name} failed")
        return self.w3.eth.contract(address=receipt.contractAddress, abi=art.abi)

    def send(self, fn) -> None:
        tx = fn.transact({"from": self.sender})
        receipt = self.w3.eth.wait_for_transaction_receipt(tx)
        if receipt.status != 1:
            raise RuntimeError(f"deployment call {fn.fn_name} failed")


def deploy_protocol(w3: Web3, deployer: str, params: DevnetParams | None = None) -> Deployment:
    """Deploy, register and configure the whole protocol. `deployer` must be unlocked on the node."""
    p = params or DevnetParams()
    d = _Deployer(w3, deployer)
    controller = d.deploy("Controller")
    registered: dict[str, str] = {}

    def register(name: str, contract) -> None:
        d.send(controller.functions.setContractInfo(contract_id(name), contract.address, ZERO_COMMIT))
        registered[name] = contract.address

    token = d.deploy("LivepeerToken")
    register("LivepeerToken", token)
    minter = d.deploy("Minter", controller.address, p.inflation, p.inflation_change, p.target_bonding_rate)
    register("Minter", minter)
    d.send(token.functions.grantRole(token.functions.MINTER_ROLE().call(), minter.address))
    d.send(token.functions.grantRole(token.functions.BURNER_ROLE().call(), minter.address))

    rounds = d.deploy("RoundsManager", controller.address)
    register("RoundsManager", rounds)
    bonding = d.deploy("BondingManager", controller.address)
    register("BondingManager", bonding)
    votes = d.deploy("BondingVotes", controller.address)
    register("BondingVotes", votes)
    broker = d.deploy("TicketBroker", controller.address)
    register("TicketBroker", broker)
    register("JobsManager", broker)
    registry = d.deploy("ServiceRegistry", controller.address)
    register("ServiceRegistry", registry)
    ai_registry = d.deploy("ServiceRegistry", controller.address)

    treasury = d.deploy("Treasury", p.treasury_min_delay, [], [], d.sender)
    register("Treasury", treasury)
    governor = d.deploy(
        "LivepeerGovernor",
        controller.address,
        p.voting_delay,
        p.voting_period,
        p.proposal_threshold,
        p.quorum_numerator,
        p.quota,
    )
    register("LivepeerGovernor", governor)
    for role in ("PROPOSER_ROLE", "CANCELLER_ROLE", "EXECUTOR_ROLE"):
        d.send(treasury.functions.grantRole(getattr(treasury.functions, role)().call(), governor.address))
    poll_creator = d.deploy("PollCreator", controller.address)

    # Parameters (Controller owner only), as the protocol's own deploy scripts set them.
    d.send(rounds.functions.setRoundLength(p.round_length))
    d.send(rounds.functions.setRoundLockAmount(p.round_lock_amount))
    d.send(bonding.functions.setUnbondingPeriod(p.unbonding_period))
    d.send(bonding.functions.setNumActiveTranscoders(p.num_active_transcoders))
    d.send(bonding.functions.setTreasuryRewardCutRate(p.treasury_reward_cut_rate))
    d.send(bonding.functions.setTreasuryBalanceCeiling(p.treasury_balance_ceiling))
    d.send(broker.functions.setUnlockPeriod(p.unlock_period))
    d.send(broker.functions.setTicketValidityPeriod(p.ticket_validity_period))
    # Off-protocol, and last: every contract above keeps the address it had before the feed existed.
    price_feed = d.deploy("EthUsdPriceFeed", p.eth_usd_answer)

    install_multicall3(w3)
    return Deployment(
        controller=controller.address,
        contracts=registered,
        poll_creator=poll_creator.address,
        ai_service_registry=ai_registry.address,
        deployer=d.sender,
        params=p,
        price_feed=price_feed.address,
    )


def install_multicall3(w3: Web3) -> None:
    """Put Multicall3-compatible code at its well-known address, as every real chain has it."""
    code = load_artifact("Multicall3").deployed_bytecode
    w3.provider.make_request("anvil_setCode", [MULTICALL3_ADDRESS, code])
