"""Orchestrator and round services on the seeded devnet: reward with hints and a forecast that matches
the mint, the LIP-118 reward caller, configuration diffs, round initialization, and their refusals."""

from __future__ import annotations

import pytest

from chain.client import ZERO_ADDRESS
from chain.intents import PreflightError
from chain.reads import load_orchestrator, load_orchestrator_pool, load_round_info
from chain.services import orchestrator, rounds
from tests.chain.seeded import *  # noqa: F403
from tests.chain.seeded import Dev


def test_reward_mints_what_the_preview_forecast_with_correct_hints(client, dev: Dev):
    orch = dev.orchestrator(1)
    dev.to_next_round()
    forecast = orchestrator.forecast_reward(client, orch.address)
    plan = orchestrator.reward(client, orch.address)
    (intent,) = plan.intents
    assert intent.action == "rewardWithHint" and "Call reward for" in intent.summary
    results = send(client, plan, orch)
    assert results[0].event("Reward").args["amount"] == forecast.rewards > 0
    assert results[0].event("TreasuryReward").args["amount"] == forecast.treasury
    prev, nxt = intent.args
    order = [o.address for o in load_orchestrator_pool(client).orchestrators]
    i = order.index(orch.address)
    assert prev == (order[i - 1] if i > 0 else ZERO_ADDRESS)
    assert nxt == (order[i + 1] if i + 1 < len(order) else ZERO_ADDRESS)
    with pytest.raises(PreflightError, match="already called") as err:
        orchestrator.reward(client, orch.address)
    assert f"round {dev.round() + 1}" in err.value.fix


def test_reward_refusals(client, dev: Dev):
    dev.to_next_round()
    last = dev.orchestrator(11)  # twelfth by stake: outside the active set of ten
    with pytest.raises(PreflightError, match="not in the active set"):
        orchestrator.reward(client, last.address)
    with pytest.raises(PreflightError, match="is not the reward caller"):
        orchestrator.reward(client, dev.account(58).address, dev.orchestrator(3).address)


def test_reward_caller_set_then_reward_for_the_orchestrator(client, dev: Dev):
    orch, caller = dev.orchestrator(3), dev.account(59)
    dev.to_next_round()
    plan = orchestrator.set_reward_caller(client, orch.address, caller.address)
    ev = send(client, plan, orch)[0].event("RewardCallerSet")
    assert ev.args["transcoder"] == orch.address and ev.args["rewardCaller"] == caller.address
    assert load_orchestrator(client, orch.address).reward_caller == caller.address
    plan = orchestrator.reward(client, caller.address, orch.address)
    assert plan.intents[0].action == "rewardForTranscoderWithHint"
    reward = send(client, plan, caller)[0].event("Reward")
    assert reward.args["transcoder"] == orch.address
    with pytest.raises(PreflightError, match="already"):
        orchestrator.set_reward_caller(client, orch.address, caller.address)
    cleared = send(client, orchestrator.set_reward_caller(client, orch.address, None), orch)
    assert cleared[0].event("RewardCallerSet").args["rewardCaller"] == ZERO_ADDRESS


def test_configure_sends_only_what_changed_and_shows_the_diff(client, dev: Dev):
    orch = dev.orchestrator(1)
    dev.to_next_round()
    before = load_orchestrator(client, orch.address)
    with pytest.raises(PreflightError, match="must call reward in the current round") as err:
        orchestrator.configure(client, orch.address, reward_cut=before.reward_cut + 10_000)
    assert "lpc reward call" in err.value.fix
    send(client, orchestrator.reward(client, orch.address), orch)
    plan = orchestrator.configure(client, orch.address, reward_cut=before.reward_cut + 10_000,
                                  fee_share=before.fee_share, service_uri=before.service_uri)
    (intent,) = plan.intents  # the unchanged fee share and URI send nothing of their own
    assert intent.action == "transcoder" and intent.args == (before.reward_cut + 10_000, before.fee_share)
    assert [c.what for c in intent.changes] == ["reward cut"]
    assert str(intent.changes[0]) == "reward cut 5% → 6%"
    ev = send(client, plan, orch)[0].event("TranscoderUpdate")
    assert ev.args["rewardCut"] == before.reward_cut + 10_000 and ev.args["feeShare"] == before.fee_share
    with pytest.raises(PreflightError, match="nothing to change"):
        orchestrator.configure(client, orch.address, reward_cut=before.reward_cut + 10_000)
    plan = orchestrator.configure(client, orch.address, service_uri="https://new.example:8935")
    assert [i.action for i in plan.intents] == ["setServiceURI"]
    send(client, plan, orch)
    assert load_orchestrator(client, orch.address).service_uri == "https://new.example:8935"


def test_configure_is_refused_in_the_lock_period(client, dev: Dev):
    orch = dev.orchestrator(11)  # registered, not active: only the lock period stops it
    dev.to_next_round()
    dev.to_lock_period()
    assert load_round_info(client).locked
    with pytest.raises(PreflightError, match="lock period") as err:
        orchestrator.configure(client, orch.address, fee_share=123_400)
    assert "when round" in err.value.fix
    with pytest.raises(PreflightError, match="not a registered orchestrator"):
        orchestrator.configure(client, dev.account(57).address, reward_cut=1)


def test_initialize_round(client, dev: Dev):
    with pytest.raises(PreflightError, match="already initialized"):
        rounds.initialize(client, dev.account(57).address)
    rnd = dev.to_next_round(initialize=False)
    plan = rounds.initialize(client, dev.account(57).address)
    assert plan.intents[0].summary.startswith(f"Initialize round {rnd}")
    ev = send(client, plan, dev.account(57))[0].event("NewRound")
    assert ev.args["round"] == rnd and load_round_info(client).initialized
