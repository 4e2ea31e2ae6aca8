"""The forecasted yield (protocol.md §4.2, the Explorer's lib/roi.ts) against values worked by hand."""

from __future__ import annotations

import pytest

from chain.services.network import forecast_yield

LPT = 10**18

# One month of 109,500-block rounds at 12 s is 2,628,000 s / 1,314,000 s = 2 rounds.
BASE = dict(principle_lpt=100, transcoder_stake=900 * LPT, reward_cut=100_000, fee_share=500_000,
            inflation=10_000_000, total_supply=1_000_000 * LPT, total_active_stake=500_000 * LPT,
            round_length=109_500, call_ratio=1.0, months=1)


def test_reward_yield_without_treasury_cut():
    # G = 1.01² − 1 = 0.0201; O's LPT = 1e6 × 0.0201 / 5e5 × (100 + 900) = 40.2;
    # delegator = 40.2 × 0.9 × 100/1000 = 3.618 LPT → 3.618 %
    f = forecast_yield(**BASE, treasury_cut_rate=0)
    assert f.rounds == 2
    assert f.growth == pytest.approx(0.0201)
    assert f.reward_lpt == pytest.approx(3.618)
    assert f.reward_yield == pytest.approx(0.03618)
    assert f.fee_yield is None  # no LPT price: fees are not counted
    assert f.total == pytest.approx(0.03618)


def test_treasury_cut_and_call_ratio_and_fees():
    # i′ = 0.01 × 0.9 = 0.009; G = 1.009² − 1 = 0.018081; × ρ 0.5 → O's LPT = 0.036162 × 1000 × 0.5 = 18.081;
    # delegator = 18.081 × 0.9 × 0.1 = 1.62729 LPT.
    # Fees: 0.9 ETH/day × 365 × 1/12 = 27.375 ETH; × s 0.5 × 100/1000 = 1.36875 ETH; / 0.01 ETH per LPT
    # = 136.875 LPT → 136.875 % of 100 LPT.
    f = forecast_yield(**{**BASE, "call_ratio": 0.5}, treasury_cut_rate=10**26, fees_per_day_eth=0.9,
                       lpt_price_eth=0.01)
    assert f.growth == pytest.approx(0.018081)
    assert f.reward_lpt == pytest.approx(1.62729)
    assert f.fee_eth == pytest.approx(1.36875)
    assert f.fee_yield == pytest.approx(1.36875)
    assert f.total == pytest.approx(0.0162729 + 1.36875)


def test_an_orchestrator_that_never_calls_reward_forecasts_nothing_from_rewards():
    f = forecast_yield(**{**BASE, "call_ratio": 0.0}, treasury_cut_rate=0)
    assert f.reward_yield == 0.0


def test_falling_inflation_grows_less_than_fixed():
    fixed = forecast_yield(**{**BASE, "months": 12}, treasury_cut_rate=0)
    down = forecast_yield(**{**BASE, "months": 12}, treasury_cut_rate=0, inflation_change=1_000_000, mode="down")
    assert fixed.rounds == 24 and 0 < down.reward_yield < fixed.reward_yield
