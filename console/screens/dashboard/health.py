"""What the Dashboard reads off the UI thread: this round's reward status (chain + the autopilot's own
record), the node's earnings this round and today (ticket ledger, reward calls), the last alerts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timezone


@dataclass(frozen=True)
class RewardStatus:
    round: int
    initialized: bool
    blocks_left: int
    registered: bool
    active: bool
    called: bool
    by_autopilot: bool
    tx_hash: str | None
    minted: int  # LPT wei to the pool this round (Reward event)
    treasury: int
    commission: int  # the reward cut kept
    autopilot: str  # "on", "off" or why it cannot say
    autopilot_note: str | None  # the autopilot's reason for this round / last error


@dataclass(frozen=True)
class Earned:
    won_face: int  # face value of winning tickets (ETH wei)
    won: int
    redeemed: int  # ETH wei paid by redemptions
    lpt_kept: int  # LPT wei of reward commission


@dataclass(frozen=True)
class DashboardData:
    reward: RewardStatus | None
    this_round: Earned | None
    today: Earned | None
    alerts: tuple  # core.payments.alerts.AlertEntry, newest first
    reason: str | None = None  # a read failed


def _today(ts: datetime | None, today) -> bool:
    if ts is None:
        return False
    if ts.tzinfo is not None:
        ts = ts.astimezone(timezone.utc)
    return ts.date() == today


def load_dashboard(client, account: str | None, parts, *, today=None) -> DashboardData:
    from chain.reads import load_orchestrator, load_round_info
    from chain.services.reward_calls import reward_calls

    today = today or datetime.now(timezone.utc).date()
    info = load_round_info(client)
    reward = None
    call = None
    if account:
        detail = load_orchestrator(client, account)
        autopilot = getattr(parts, "autopilot", None) if parts is not None else None
        row = None
        history = autopilot.history(10) if autopilot is not None else []
        row = next((r for r in history if r.round == info.number), None)
        if detail.registered:
            calls = reward_calls(client, account, rounds=1)
            call = calls.rounds[-1] if calls.rounds else None
        state = "off" if parts is None or autopilot is None else "on"
        if parts is None:
            state = "node stopped"
        reward = RewardStatus(
            round=info.number, initialized=info.initialized,
            blocks_left=max(0, info.start_block + info.length - info.l1_block), registered=detail.registered,
            active=detail.active, called=bool(call and call.called),
            by_autopilot=bool(row and row.status == "called" and row.tx_hash), tx_hash=row.tx_hash if row else None,
            minted=call.rewards if call else 0, treasury=call.treasury if call else 0,
            commission=call.commission if call else 0, autopilot=state,
            autopilot_note=(row.reason if row else None) or getattr(autopilot, "last_error", None))
    this_round = today_e = None
    alerts: tuple = ()
    if parts is not None:  # every ticket of the ledger: of this round, and received since midnight UTC
        from core.payments.views import earned

        kept = call.commission if call else 0
        mine = earned(parts.store, creation_round=info.number)
        this_round = Earned(mine.won_face, mine.won, mine.redeemed, kept)
        midnight = datetime.combine(today, time.min, tzinfo=timezone.utc)
        day = earned(parts.store, since=midnight)
        history = parts.autopilot.history(50) if parts.autopilot is not None else []
        minted_today = [r for r in history if r.status == "called" and _today(r.updated_at, today)]
        kept_today = kept if any(r.round == info.number for r in minted_today) else 0
        today_e = Earned(day.won_face, day.won, day.redeemed, kept_today)
        alerts = tuple(parts.alerts.recent(5))
    return DashboardData(reward, this_round, today_e, alerts)
