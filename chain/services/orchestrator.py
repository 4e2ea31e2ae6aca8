"""Orchestrator: reward (with pool hints and a forecast of the split), the LIP-118 reward caller, and the
configuration (reward cut, fee share, service URI: only changed fields are sent, shown as a diff)."""

from __future__ import annotations

from dataclasses import dataclass

from eth_utils import to_checksum_address

from chain import protocol_math as pm
from chain.amounts import format_lpt, format_percent
from chain.client import ZERO_ADDRESS, ChainClient
from chain.intents import PreflightError, StateChange, TxPlan, build_intent, gas_price, make_plan
from chain.multicall import Call, aggregate
from chain.reads import (
    OrchestratorDetail,
    OrchestratorPool,
    PoolCache,
    load_account,
    load_orchestrator,
    load_orchestrator_pool,
    load_round_info,
    resolve,
)
from chain.amounts import short_address
from chain.services.common import require_open_round


@dataclass(frozen=True)
class RewardForecast:
    minted: int
    treasury: int
    rewards: int  # added to the orchestrator's stake (the Reward event amount)
    commission: int  # the orchestrator's reward cut of it
    delegators: int


def forecast_reward(client: ChainClient, transcoder: str) -> RewardForecast:
    """What reward() would mint for `transcoder` now (protocol.md §3.3, to the wei, treasury ceiling aside)."""
    t_addr = to_checksum_address(transcoder)
    resolve(client, "BondingManager", "Minter", "RoundsManager")
    bm = client.contract("BondingManager").functions
    minter = client.contract("Minter").functions
    rnd = client.contract("RoundsManager").functions.currentRound().call()
    t, mintable, total_active, cut_rate = aggregate(client.w3, client.profile.multicall3, [
        Call.of(bm.getTranscoder(t_addr)), Call.of(minter.currentMintableTokens()),
        Call.of(bm.currentRoundTotalActiveStake()), Call.of(bm.treasuryRewardCutRate()),
    ])
    last_update = t[3]
    pool_round = rnd if last_update >= rnd else last_update
    pool = bm.getTranscoderEarningsPoolForRound(t_addr, pool_round).call()
    if not total_active or not pool[0]:
        return RewardForecast(0, 0, 0, 0, 0)
    split = pm.reward_split(mintable=mintable, transcoder_stake=pool[0], total_active_stake=total_active,
                            treasury_cut_rate=cut_rate, reward_cut=t[1])
    return RewardForecast(split.minted, split.treasury, split.rewards, split.commission, split.delegators)


def pool_hints(pool: OrchestratorPool, transcoder: str, new_stake: int) -> tuple[str, str]:
    """(prev, next) neighbours of `transcoder` at `new_stake` in the pool sorted by stake descending:
    prev holds at least as much, next at most as much (zero address at either end)."""
    others = [o for o in pool.orchestrators if o.address != transcoder]
    prev, nxt = ZERO_ADDRESS, ZERO_ADDRESS
    for o in others:
        if o.total_stake >= new_stake:
            prev = o.address
        else:
            nxt = o.address
            break
    return prev, nxt


def reward(client: ChainClient, sender: str, transcoder: str | None = None, *,
           cache: PoolCache | None = None) -> TxPlan:
    """Call reward for this round (for `transcoder` as its LIP-118 reward caller when given), with the
    sorted-pool hints for the orchestrator's new position, so the call does not walk the list."""
    sender = to_checksum_address(sender)
    t_addr = to_checksum_address(transcoder) if transcoder else sender
    detail = load_orchestrator(client, t_addr)
    rnd = load_round_info(client)
    require_open_round(rnd)
    if t_addr != sender and detail.reward_caller != sender:
        raise PreflightError(
            f"{sender} is not the reward caller of {t_addr} (it is {detail.reward_caller or 'not set'})",
            f"the orchestrator sets it with `lpc reward caller --set {sender}` from its own account",
        )
    if not detail.active:
        raise PreflightError(f"{t_addr} is not in the active set in round {rnd.number}, so it cannot call reward",
                             "an orchestrator joins the active set the round after it registers with enough stake")
    if detail.reward_called_this_round:
        raise PreflightError(f"reward was already called for {short_address(t_addr)} in round {rnd.number}",
                             f"the next call is possible in round {rnd.number + 1}")
    acct = load_account(client, sender)
    forecast = forecast_reward(client, t_addr)
    pool = load_orchestrator_pool(client, cache=cache)
    prev, nxt = pool_hints(pool, t_addr, detail.total_stake + forecast.rewards)
    bm = client.contract("BondingManager")
    if t_addr == sender:
        fn, action = bm.functions.rewardWithHint(prev, nxt), "rewardWithHint"
    else:
        fn, action = bm.functions.rewardForTranscoderWithHint(t_addr, prev, nxt), "rewardForTranscoderWithHint"
    intent = build_intent(
        client, sender=sender, contract="BondingManager", fn=fn, action=action,
        summary=(f"Call reward for {t_addr} in round {rnd.number}: about {format_lpt(forecast.rewards, 6)} "
                 f"(commission {format_lpt(forecast.commission, 6)}, delegators {format_lpt(forecast.delegators, 6)}, "
                 f"treasury {format_lpt(forecast.treasury, 6)})"),
        changes=[StateChange("stake", format_lpt(detail.total_stake, 6),
                             format_lpt(detail.total_stake + forecast.rewards, 6), f"of {short_address(t_addr)}"),
                 StateChange("last reward round", str(detail.last_reward_round), str(rnd.number))],
    )
    return make_plan(client, f"reward for round {rnd.number}", [intent], eth_balance=acct.eth_balance)


def set_reward_caller(client: ChainClient, sender: str, caller: str | None) -> TxPlan:
    """LIP-118: let `caller` call reward for the sender's orchestrator (None clears it)."""
    sender = to_checksum_address(sender)
    new = to_checksum_address(caller) if caller else ZERO_ADDRESS
    detail = load_orchestrator(client, sender)
    acct = load_account(client, sender)
    if acct.round.paused:
        raise PreflightError("the Livepeer protocol is paused by governance", "wait until it is unpaused")
    old = detail.reward_caller or ZERO_ADDRESS
    if old == new:
        raise PreflightError(f"the reward caller is already {caller or 'unset'}", "nothing to change")
    warnings = [] if detail.registered else [f"{sender} is not a registered orchestrator"]
    bm = client.contract("BondingManager")
    intent = build_intent(
        client, sender=sender, contract="BondingManager", fn=bm.functions.setRewardCaller(new),
        action="setRewardCaller",
        summary=(f"Let {new} call reward for {sender}" if caller else f"Clear the reward caller of {sender}"),
        changes=[StateChange("reward caller", short_address(detail.reward_caller, "nobody"),
                             short_address(caller, "nobody"))], warnings=warnings,
    )
    return make_plan(client, "set reward caller", [intent], eth_balance=acct.eth_balance)


def configure(client: ChainClient, sender: str, *, reward_cut: int | None = None, fee_share: int | None = None,
              service_uri: str | None = None, ai_service_uri: str | None = None) -> TxPlan:
    """Change reward cut / fee share (parts per million), the service URI and/or the AI service URI (the
    AI ServiceRegistry, where AI gateways started with -aiServiceRegistry look orchestrators up). Only what
    differs from the chain is sent: an unchanged field is never rewritten (livepeer_cli's Enter-key hazard)."""
    sender = to_checksum_address(sender)
    detail: OrchestratorDetail = load_orchestrator(client, sender)
    acct = load_account(client, sender)
    fees = gas_price(client)
    intents = []
    rates_change = (reward_cut is not None and reward_cut != detail.reward_cut) or (
        fee_share is not None and fee_share != detail.fee_share)
    if rates_change:
        for name, v in (("reward cut", reward_cut), ("fee share", fee_share)):
            if v is not None and not 0 <= v <= 1_000_000:
                raise PreflightError(f"the {name} must be between 0 and 100 %")
        require_open_round(acct.round)
        if not detail.registered:
            raise PreflightError(f"{sender} is not a registered orchestrator",
                                 f"self-bond first: `lpc stake bond --to {sender} --amount …`")
        if acct.round.locked:
            raise PreflightError(
                f"round {acct.round.number} is in its lock period: reward cut and fee share cannot change now",
                f"try again when round {acct.round.number + 1} starts, in {acct.round.blocks_left} blocks",
            )
        if detail.active and not detail.reward_called_this_round:
            raise PreflightError(
                "an active orchestrator must call reward in the current round before changing its rates",
                "run `lpc reward call` first",
            )
        rc = detail.reward_cut if reward_cut is None else reward_cut
        fs = detail.fee_share if fee_share is None else fee_share
        changes = []
        if rc != detail.reward_cut:
            changes.append(StateChange("reward cut", format_percent(detail.reward_cut), format_percent(rc)))
        if fs != detail.fee_share:
            changes.append(StateChange("fee share (to delegators)", format_percent(detail.fee_share),
                                       format_percent(fs), f"(fee cut {format_percent(1_000_000 - fs)})"))
        bm = client.contract("BondingManager")
        intents.append(build_intent(
            client, sender=sender, contract="BondingManager", fn=bm.functions.transcoder(rc, fs),
            action="transcoder", summary=f"Set reward cut {format_percent(rc)} and fee share {format_percent(fs)}",
            changes=changes, fees=fees,
            warnings=["new rates apply from the next round's earnings pool"],
        ))
    if service_uri is not None and service_uri != detail.service_uri:
        if acct.round.paused:
            raise PreflightError("the Livepeer protocol is paused by governance", "wait until it is unpaused")
        sr = client.contract("ServiceRegistry")
        intents.append(build_intent(
            client, sender=sender, contract="ServiceRegistry", fn=sr.functions.setServiceURI(service_uri),
            action="setServiceURI", summary=f"Set the service URI to {service_uri}",
            changes=[StateChange("service URI", detail.service_uri or "(none)", service_uri)], fees=fees,
        ))
    if ai_service_uri is not None:
        ai = client.contract("AIServiceRegistry")
        current_ai = ai.functions.getServiceURI(sender).call()
        if ai_service_uri != current_ai:
            if acct.round.paused:
                raise PreflightError("the Livepeer protocol is paused by governance", "wait until it is unpaused")
            intents.append(build_intent(
                client, sender=sender, contract="AIServiceRegistry", fn=ai.functions.setServiceURI(ai_service_uri),
                action="setServiceURI", summary=f"Set the AI service URI to {ai_service_uri}",
                changes=[StateChange("AI service URI", current_ai or "(none)", ai_service_uri)], fees=fees,
            ))
    if not intents:
        raise PreflightError("nothing to change: the values given are already on chain",
                             "give a different --reward-cut, --fee-share, --service-uri or --ai-service-uri")
    return make_plan(client, "orchestrator configuration", intents, eth_balance=acct.eth_balance)
