"""Typed reads of protocol state. Amounts are integer wei; results are frozen dataclasses.

Reads are batched: the orchestrator pool loads in two JSON-RPC round trips (the pool walk plus the
current round in one `eth_call`, then every per-orchestrator field in one Multicall3 aggregate) and is
cached per round; an account overview is one aggregate, plus one for its unbonding locks.
`load_orchestrator_pool_naive` keeps the one-call-per-field way for bench/chain_reads.py.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from enum import IntEnum

from chain.client import ZERO_ADDRESS, ChainClient, ChainError
from chain.multicall import Call, aggregate, failed, walk_pool

# ------------------------------------------------------------------------------- addresses


PROTOCOL_NAMES = ("BondingManager", "RoundsManager", "Minter", "LivepeerToken", "ServiceRegistry", "BondingVotes",
                  "LivepeerGovernor", "TicketBroker", "Treasury")


def resolve(client: ChainClient, *names: str) -> dict[str, str]:
    """Resolve Controller names in one aggregate, cached on the client like `client.address`. The first
    call resolves every protocol contract at once, so a client pays this round trip only once."""
    from eth_utils import keccak, to_checksum_address

    wanted = dict.fromkeys(names + PROTOCOL_NAMES) if not client._addresses else dict.fromkeys(names)
    missing = [n for n in wanted if n not in client._addresses and n not in _PROFILE_NAMES]
    if missing:
        ctrl = client.controller
        values = aggregate(client.w3, client.profile.multicall3,
                           [Call.of(ctrl.functions.getContract(keccak(text=n))) for n in missing])
        for name, addr in zip(missing, values):
            if addr == ZERO_ADDRESS:
                raise ChainError(f"the Controller has no contract registered as {name!r}")
            client._addresses[name] = to_checksum_address(addr)
    return {n: client.address(n) for n in names}


_PROFILE_NAMES = ("PollCreator", "AIServiceRegistry", "Multicall3")


# ------------------------------------------------------------------------------- orchestrators


@dataclass(frozen=True)
class Orchestrator:
    address: str
    service_uri: str
    active: bool
    total_stake: int
    stake_share: float  # of the pool's total stake
    reward_cut: int  # parts per 1,000,000 the orchestrator keeps
    fee_share: int  # parts per 1,000,000 paid to delegators
    last_reward_round: int
    activation_round: int
    deactivation_round: int
    cumulative_rewards: int = 0
    cumulative_fees: int = 0
    last_fee_round: int = 0

    @property
    def fee_cut(self) -> int:
        """Parts per 1,000,000 of fees the orchestrator keeps (what the Explorer shows)."""
        return 1_000_000 - self.fee_share

    def to_json(self) -> dict:
        d = asdict(self)
        for k in ("total_stake", "cumulative_rewards", "cumulative_fees"):
            d[k] = str(d[k])
        return d


@dataclass(frozen=True)
class OrchestratorPool:
    round: int
    orchestrators: tuple[Orchestrator, ...]

    def get(self, address: str) -> Orchestrator | None:
        from eth_utils import to_checksum_address

        address = to_checksum_address(address)
        return next((o for o in self.orchestrators if o.address == address), None)

    @property
    def total_stake(self) -> int:
        return sum(o.total_stake for o in self.orchestrators)


class PoolCache:
    """The last loaded pool, reused while the round does not change (thread-safe).

    Stake moves inside a round too: services invalidate the cache after every transaction they send."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pool: OrchestratorPool | None = None

    def get(self, rnd: int) -> OrchestratorPool | None:
        with self._lock:
            return self._pool if self._pool is not None and self._pool.round == rnd else None

    def put(self, pool: OrchestratorPool) -> None:
        with self._lock:
            self._pool = pool

    def invalidate(self) -> None:
        with self._lock:
            self._pool = None


def _pool_from_fields(rnd: int, addrs, transcoders, stakes, actives, uris) -> OrchestratorPool:
    total = sum(stakes) or 1
    out = []
    for a, t, stake, active, uri in zip(addrs, transcoders, stakes, actives, uris):
        out.append(Orchestrator(
            address=a, service_uri=uri, active=bool(active), total_stake=stake, stake_share=stake / total,
            reward_cut=t[1], fee_share=t[2], last_reward_round=t[0], activation_round=t[4],
            deactivation_round=t[5], cumulative_rewards=t[7], cumulative_fees=t[8], last_fee_round=t[9],
        ))
    return OrchestratorPool(round=rnd, orchestrators=tuple(out))


def load_orchestrator_pool(client: ChainClient, *, cache: PoolCache | None = None) -> OrchestratorPool:
    """Every orchestrator in the pool, highest stake first, in at most two round trips."""
    walk = walk_pool(client.w3, client.profile.controller)
    if cache is not None and (hit := cache.get(walk.round)) is not None and \
            tuple(o.address for o in hit.orchestrators) == walk.addresses:
        return hit
    bm = _at(client, "BondingManager", walk.bonding_manager)
    sr = _at(client, "ServiceRegistry", walk.service_registry)
    calls = []
    for a in walk.addresses:
        calls += [
            Call.of(bm.functions.getTranscoder(a)),
            Call.of(bm.functions.transcoderTotalStake(a)),
            Call.of(bm.functions.isActiveTranscoder(a)),
            Call.of(sr.functions.getServiceURI(a)),
        ]
    values = aggregate(client.w3, client.profile.multicall3, calls)
    pool = _pool_from_fields(walk.round, walk.addresses, values[0::4], values[1::4], values[2::4], values[3::4])
    if cache is not None:
        cache.put(pool)
    return pool


def _at(client: ChainClient, name: str, address: str):
    from chain.abi import abi

    client._addresses.setdefault(name, address)
    return client.w3.eth.contract(address=address, abi=abi(name))


def load_orchestrator_pool_naive(client: ChainClient) -> OrchestratorPool:
    """The one-call-per-field way (what the Explorer's predecessors and livepeer_cli do); for benchmarks."""
    bm = client.contract("BondingManager").functions
    registry = client.contract("ServiceRegistry").functions
    rnd = client.contract("RoundsManager").functions.currentRound().call()
    addrs = []
    cur = bm.getFirstTranscoderInPool().call()
    while cur != ZERO_ADDRESS and len(addrs) < 10_000:
        addrs.append(cur)
        cur = bm.getNextTranscoderInPool(cur).call()
    transcoders = [bm.getTranscoder(a).call() for a in addrs]
    stakes = [bm.transcoderTotalStake(a).call() for a in addrs]
    actives = [bm.isActiveTranscoder(a).call() for a in addrs]
    uris = [registry.getServiceURI(a).call() for a in addrs]
    return _pool_from_fields(rnd, addrs, transcoders, stakes, actives, uris)


# ------------------------------------------------------------------------------- rounds


@dataclass(frozen=True)
class RoundInfo:
    """The current round in the protocol's own clock ("L1" blocks from RoundsManager.blockNum).

    Every block number here is an L1 number (on Arbitrum One the Ethereum block; on the devnet the L2
    block + 20,000,000): compare them only with each other, never use one as an L2 block (eth_getLogs
    range, block_identifier, eth_getBlockByNumber); the L2 head is `eth_blockNumber`."""

    number: int
    initialized: bool
    locked: bool
    start_block: int  # L1
    length: int  # L1 blocks
    lock_amount: int  # parts per 1,000,000 of the round that are locked at its end
    l1_block: int  # RoundsManager.blockNum() when read
    last_initialized_round: int = 0
    paused: bool = False

    @property
    def blocks_into_round(self) -> int:
        return max(0, self.l1_block - self.start_block)

    @property
    def blocks_left(self) -> int:
        return max(0, self.start_block + self.length - self.l1_block)

    @property
    def progress(self) -> float:
        return min(1.0, self.blocks_into_round / self.length) if self.length else 0.0

    @property
    def lock_starts_at(self) -> int:
        return self.start_block + self.length - self.length * self.lock_amount // 1_000_000

    def to_json(self) -> dict:
        d = asdict(self)
        d.update(blocks_left=self.blocks_left, lock_starts_at=self.lock_starts_at)
        return d


def _round_calls(client: ChainClient) -> list[Call]:
    rm = client.contract("RoundsManager").functions
    return [Call.of(f) for f in (
        rm.currentRound(), rm.currentRoundInitialized(), rm.currentRoundLocked(), rm.currentRoundStartBlock(),
        rm.roundLength(), rm.roundLockAmount(), rm.blockNum(), rm.lastInitializedRound(),
    )] + [Call.of(client.controller.functions.paused())]


def _round_from(values) -> RoundInfo:
    return RoundInfo(*values)


def load_round_info(client: ChainClient) -> RoundInfo:
    resolve(client, "RoundsManager")
    return _round_from(aggregate(client.w3, client.profile.multicall3, _round_calls(client)))


# ------------------------------------------------------------------------------- accounts


class DelegatorStatus(IntEnum):
    PENDING = 0
    BONDED = 1
    UNBONDED = 2

    @property
    def label(self) -> str:
        return self.name.capitalize()


@dataclass(frozen=True)
class UnbondingLock:
    id: int
    amount: int
    withdraw_round: int
    withdrawable: bool  # withdrawRound <= current round


@dataclass(frozen=True)
class AccountOverview:
    address: str
    round: RoundInfo
    lpt_balance: int
    eth_balance: int
    allowance: int  # LPT the BondingManager may pull (approve)
    bonded_amount: int
    fees: int  # claimed fees (pending_fees includes them)
    delegate: str | None
    delegated_amount: int  # stake delegated to this address (non-zero for orchestrators)
    start_round: int
    last_claim_round: int
    next_unbonding_lock_id: int
    status: DelegatorStatus
    pending_stake: int
    pending_fees: int
    voting_power: int  # BondingVotes.getVotes: power from the start of next round
    is_registered_transcoder: bool
    is_active_transcoder: bool
    unbonding_locks: tuple[UnbondingLock, ...] = field(default_factory=tuple)
    bonding_manager: str = ""

    @property
    def rewards_since_claim(self) -> int:
        return self.pending_stake - self.bonded_amount

    @property
    def unbonding_total(self) -> int:
        return sum(lock.amount for lock in self.unbonding_locks)

    def lock(self, lock_id: int) -> UnbondingLock | None:
        return next((lock for lock in self.unbonding_locks if lock.id == lock_id), None)

    def to_json(self) -> dict:
        d = asdict(self)
        d["status"] = self.status.label
        d["round"] = self.round.to_json()
        for k, v in list(d.items()):
            if isinstance(v, int) and not isinstance(v, bool) and k.endswith(
                    ("balance", "allowance", "amount", "fees", "stake", "power")):
                d[k] = str(v)
        d["unbonding_locks"] = [
            {**asdict(lock), "amount": str(lock.amount)} for lock in self.unbonding_locks
        ]
        return d


def load_account(client: ChainClient, address: str) -> AccountOverview:
    """Balances, allowance, delegation, pending stake and fees, locks and voting power of `address`:
    one aggregate, plus one for the unbonding locks when there are any."""
    from eth_utils import to_checksum_address

    a = to_checksum_address(address)
    addrs = resolve(client, "LivepeerToken", "BondingManager", "BondingVotes", "RoundsManager")
    token = client.contract("LivepeerToken").functions
    bm = client.contract("BondingManager").functions
    votes = client.contract("BondingVotes").functions
    mc = client.w3.eth.contract(address=client.profile.multicall3, abi=_mc_abi()).functions
    round_calls = _round_calls(client)
    calls = round_calls + [
        Call.of(token.balanceOf(a)),
        Call.of(mc.getEthBalance(a)),
        Call.of(token.allowance(a, addrs["BondingManager"])),
        Call.of(bm.getDelegator(a)),
        Call.of(bm.delegatorStatus(a)),
        Call.of(bm.pendingStake(a, 0)),
        Call.of(bm.pendingFees(a, 0)),
        Call.of(votes.getVotes(a), allow_failure=True),
        Call.of(bm.isRegisteredTranscoder(a)),
        Call.of(bm.isActiveTranscoder(a)),
    ]
    values = aggregate(client.w3, client.profile.multicall3, calls)
    rnd = _round_from(values[: len(round_calls)])
    (lpt, eth, allowance, dele, status, pstake, pfees, power, registered, active) = values[len(round_calls):]
    next_lock = dele[6]
    locks: list[UnbondingLock] = []
    if next_lock:
        lock_values = aggregate(client.w3, client.profile.multicall3,
                                [Call.of(bm.getDelegatorUnbondingLock(a, i)) for i in range(next_lock)])
        for i, (amount, withdraw_round) in enumerate(lock_values):
            if withdraw_round > 0:
                locks.append(UnbondingLock(i, amount, withdraw_round, withdraw_round <= rnd.number))
    return AccountOverview(
        address=a, round=rnd, lpt_balance=lpt, eth_balance=eth, allowance=allowance,
        bonded_amount=dele[0], fees=dele[1], delegate=None if dele[2] == ZERO_ADDRESS else dele[2],
        delegated_amount=dele[3], start_round=dele[4], last_claim_round=dele[5], next_unbonding_lock_id=next_lock,
        status=DelegatorStatus(status), pending_stake=pstake, pending_fees=pfees,
        voting_power=0 if failed(power) else power, is_registered_transcoder=registered,
        is_active_transcoder=active, unbonding_locks=tuple(locks), bonding_manager=addrs["BondingManager"],
    )


def _mc_abi():
    from chain.abi import abi

    return abi("Multicall3")


# ------------------------------------------------------------------------------- one orchestrator


@dataclass(frozen=True)
class OrchestratorDetail:
    address: str
    round: int
    registered: bool
    active: bool
    service_uri: str
    total_stake: int
    reward_cut: int
    fee_share: int
    last_reward_round: int
    activation_round: int
    deactivation_round: int
    reward_caller: str | None

    @property
    def reward_called_this_round(self) -> bool:
        return self.last_reward_round == self.round

    def to_json(self) -> dict:
        d = asdict(self)
        d["total_stake"] = str(self.total_stake)
        return d


def load_orchestrator(client: ChainClient, address: str) -> OrchestratorDetail:
    from eth_utils import to_checksum_address

    a = to_checksum_address(address)
    resolve(client, "BondingManager", "ServiceRegistry", "RoundsManager")
    bm = client.contract("BondingManager").functions
    sr = client.contract("ServiceRegistry").functions
    rm = client.contract("RoundsManager").functions
    rnd, registered, active, uri, stake, t, caller = aggregate(client.w3, client.profile.multicall3, [
        Call.of(rm.currentRound()), Call.of(bm.isRegisteredTranscoder(a)), Call.of(bm.isActiveTranscoder(a)),
        Call.of(sr.getServiceURI(a)), Call.of(bm.transcoderTotalStake(a)), Call.of(bm.getTranscoder(a)),
        Call.of(bm.transcoderToRewardCaller(a)),
    ])
    return OrchestratorDetail(
        address=a, round=rnd, registered=registered, active=active, service_uri=uri, total_stake=stake,
        reward_cut=t[1], fee_share=t[2], last_reward_round=t[0], activation_round=t[4], deactivation_round=t[5],
        reward_caller=None if caller == ZERO_ADDRESS else caller,
    )
