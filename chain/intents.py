"""Transaction intents: what a write will do and cost, built and checked before anything is signed.

A service turns a user's request into a `TxPlan` (one or more `TxIntent`s, e.g. approve then bond).
Each intent carries the call (to, data, value), a gas estimate, the ETH cost at the current gas price,
a plain-language summary and the state change it will make. Conditions that would make the
transaction fail are checked first and raised as `PreflightError(reason, fix)`; a gas estimate that
still reverts is turned into the same error, with the revert reason in words.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from chain.amounts import format_eth
from chain.client import ChainClient
from chain.revert_words import explain_revert

GAS_MARGIN_PERCENT = 20  # Arbitrum estimates move with L1 prices: keep headroom in the limit
MAX_FEE_MULTIPLIER = 2  # maxFeePerGas = 2 × base fee (the price the cost preview uses is the current one)

# Typical gas of calls that can only be estimated once an earlier step of the plan is mined (bond
# after its approve). Measured on the devnet contracts; the real estimate replaces it before signing.
TYPICAL_GAS = {"bond": 750_000, "bondWithHint": 750_000}


class PreflightError(Exception):
    """The transaction would fail: `reason` says why, `fix` what to do. Nothing was signed or sent."""

    def __init__(self, reason: str, fix: str = ""):
        super().__init__(reason + (f" — {fix}" if fix else ""))
        self.reason = reason
        self.fix = fix

    def to_json(self) -> dict:
        return {"error": "preflight", "reason": self.reason, "fix": self.fix}


@dataclass(frozen=True)
class StateChange:
    """One line of "what changes": e.g. bonded 100.0 LPT → 150.0 LPT to 0xab12…cdef."""

    what: str
    before: str
    after: str
    where: str = ""

    def __str__(self) -> str:
        return f"{self.what} {self.before} → {self.after}" + (f" {self.where}" if self.where else "")


@dataclass(frozen=True)
class TxIntent:
    action: str  # short name, e.g. "bond", "approve", "castVoteWithReason"
    chain_id: int
    sender: str
    to: str
    contract: str  # e.g. "BondingManager"
    function: str  # e.g. "bond(uint256,address)"
    args: tuple[Any, ...]
    data: str  # 0x calldata
    value: int  # wei sent with the call
    gas: int  # gas limit (estimate + margin); the typical value when `gas_estimated` is False
    gas_estimated: bool
    gas_price: int  # current gas price, wei
    max_fee_per_gas: int
    max_priority_fee_per_gas: int
    summary: str
    changes: tuple[StateChange, ...] = ()
    warnings: tuple[str, ...] = ()
    estimate: int = 0  # raw eth_estimateGas

    @property
    def cost_wei(self) -> int:
        """ETH the transaction is expected to cost at the current gas price."""
        return (self.estimate or self.gas) * self.gas_price

    @property
    def max_cost_wei(self) -> int:
        return self.gas * self.max_fee_per_gas

    def describe(self) -> str:
        gas = f"{self.gas:,} gas" if self.gas_estimated else f"≈{self.gas:,} gas (estimated again before signing)"
        lines = [self.summary, f"  call      {self.contract}.{self.function} at {self.to}",
                 f"  cost      {format_eth(self.cost_wei)} ({gas} at {self.gas_price / 1e9:g} gwei)"]
        if self.value:
            lines.append(f"  sends     {format_eth(self.value)}")
        lines += [f"  change    {c}" for c in self.changes]
        lines += [f"  warning   {w}" for w in self.warnings]
        return "\n".join(lines)

    def to_json(self) -> dict:
        d = asdict(self)
        d["args"] = [str(a) if isinstance(a, int) and not isinstance(a, bool) else _jsonable(a) for a in self.args]
        d["changes"] = [str(c) for c in self.changes]
        d["value"] = str(self.value)
        d["cost_wei"] = str(self.cost_wei)
        d["max_cost_wei"] = str(self.max_cost_wei)
        return d


def _jsonable(v: Any) -> Any:
    if isinstance(v, bytes):
        return "0x" + v.hex()
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    return v


@dataclass(frozen=True)
class TxPlan:
    """The transactions one user action needs, in order (usually one)."""

    title: str
    intents: tuple[TxIntent, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def cost_wei(self) -> int:
        return sum(i.cost_wei for i in self.intents)

    def describe(self) -> str:
        head = self.title
        if len(self.intents) > 1:
            head += f" — {len(self.intents)} transactions, about {format_eth(self.cost_wei)} in gas"
        parts = [head]
        for n, intent in enumerate(self.intents, 1):
            prefix = f"{n}. " if len(self.intents) > 1 else ""
            parts.append(prefix + intent.describe())
        parts += [f"note: {n}" for n in self.notes]
        return "\n".join(parts)

    def to_json(self) -> dict:
        return {"title": self.title, "cost_wei": str(self.cost_wei), "notes": list(self.notes),
                "intents": [i.to_json() for i in self.intents]}


@dataclass(frozen=True)
class GasPrice:
    gas_price: int
    max_fee_per_gas: int
    max_priority_fee_per_gas: int


def gas_price(client: ChainClient) -> GasPrice:
    """EIP-1559 fees: no tip (the Arbitrum sequencer ignores it), max fee = 2 × base fee."""
    base = client.w3.eth.get_block("latest").get("baseFeePerGas") or 0
    price = max(client.w3.eth.gas_price, base)
    return GasPrice(gas_price=price, max_fee_per_gas=max(MAX_FEE_MULTIPLIER * base, price),
                    max_priority_fee_per_gas=0)


def build_intent(
    client: ChainClient,
    *,
    sender: str,
    contract: str,
    fn,
    action: str,
    summary: str,
    changes: tuple[StateChange, ...] | list[StateChange] = (),
    warnings: tuple[str, ...] | list[str] = (),
    value: int = 0,
    estimate: bool = True,
    fees: GasPrice | None = None,
) -> TxIntent:
    """An intent for the bound contract function `fn`. With `estimate`, the gas is estimated now and
    a revert becomes a PreflightError with the reason in words; without, a typical value is used."""
    fees = fees or gas_price(client)
    data = fn._encode_transaction_data()
    raw_estimate = 0
    if estimate:
        raw_estimate = estimate_gas(client, sender=sender, to=fn.address, data=data, value=value)
        gas = raw_estimate * (100 + GAS_MARGIN_PERCENT) // 100
    else:
        gas = TYPICAL_GAS.get(fn.fn_name, 500_000)
    return TxIntent(
        action=action, chain_id=client.profile.chain_id, sender=sender, to=fn.address, contract=contract,
        function=fn.signature if hasattr(fn, "signature") else fn.fn_name, args=tuple(fn.args),
        data=data, value=value, gas=gas, gas_estimated=estimate, gas_price=fees.gas_price,
        max_fee_per_gas=fees.max_fee_per_gas, max_priority_fee_per_gas=fees.max_priority_fee_per_gas,
        summary=summary, changes=tuple(changes), warnings=tuple(warnings), estimate=raw_estimate,
    )


def estimate_gas(client: ChainClient, *, sender: str, to: str, data: str, value: int = 0) -> int:
    from web3.exceptions import ContractCustomError, ContractLogicError, Web3RPCError

    try:
        return client.w3.eth.estimate_gas({"from": sender, "to": to, "data": data, "value": value})
    except (ContractLogicError, ContractCustomError, Web3RPCError, ValueError) as exc:
        words = explain_revert(exc)
        raise PreflightError(words.reason, words.fix) from None


def make_plan(client: ChainClient, title: str, intents: list[TxIntent], *, eth_balance: int,
              notes: tuple[str, ...] = ()) -> TxPlan:
    """Bundle intents and refuse when the account cannot pay for them."""
    plan = TxPlan(title=title, intents=tuple(intents), notes=tuple(notes))
    need = plan.cost_wei + sum(i.value for i in intents)
    if eth_balance < need:
        sender = intents[0].sender if intents else ""
        raise PreflightError(
            f"not enough ETH for gas: {format_eth(eth_balance)} held, about {format_eth(need)} needed",
            f"send at least {format_eth(need - eth_balance)} of ETH on {client.profile.name} to {sender}",
        )
    return plan
