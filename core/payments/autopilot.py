"""The reward autopilot: for an orchestrator, initialize the round when needed and call reward once per
round (as itself, or as its LIP-118 reward caller), retrying with backoff within a gas price cap.

Every round gets a row in `reward_rounds`: called (tx, LPT minted, gas spent), inactive (not in the
active set: nothing to do), or missed with the reason when the round ended without a successful
call. A failing call and a missed round raise an alert. The chain is the authority on "called this
round" (lastRewardRound), so a restart mid-round, or a call made by another tool, is never repeated.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from core.payments.alerts import Alerts
from core.payments.background import Background
from core.payments.params import over_gas_cap
from core.payments.ports import RewardChain
from core.store.db import Store
from core.store.models import RewardRound

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AutopilotConfig:
    transcoder: str | None = None  # the orchestrator to call reward for (default: the signer's address)
    initialize_rounds: bool = True
    max_gas_price: int | None = None  # wei
    backoff_base_s: float = 5.0
    backoff_max_s: float = 600.0
    poll_s: float = 15.0


@dataclass(frozen=True)
class RoundOutcome:
    round: int
    transcoder: str
    status: str  # pending | called | missed | failed | inactive
    tx_hash: str | None
    minted_wei: int | None
    gas_used: int | None
    fee_wei: int | None
    attempts: int
    reason: str | None
    initialized_by_us: bool
    updated_at: datetime | None

    def to_json(self) -> dict:
        return {"round": self.round, "transcoder": self.transcoder, "status": self.status, "tx_hash": self.tx_hash,
                "minted_wei": None if self.minted_wei is None else str(self.minted_wei), "gas_used": self.gas_used,
                "fee_wei": None if self.fee_wei is None else str(self.fee_wei), "attempts": self.attempts,
                "reason": self.reason, "initialized_by_us": self.initialized_by_us,
                "updated_at": self.updated_at.isoformat() if self.updated_at else None}


def _outcome(r: RewardRound) -> RoundOutcome:
    return RoundOutcome(r.round, r.transcoder, r.status, r.tx_hash, None if r.minted_wei is None else int(r.minted_wei),
                        r.gas_used, None if r.fee_wei is None else int(r.fee_wei), r.attempts, r.reason,
                        r.initialized_by_us, r.updated_at)


def _reason(exc: Exception) -> str:
    return getattr(exc, "reason", None) or str(exc) or type(exc).__name__


class RewardAutopilot(Background):
    thread_name = "lpc-reward"
    join_s = 30

    def __init__(self, chain: RewardChain, store: Store, config: AutopilotConfig = AutopilotConfig(), *,
                 alerts: Alerts | None = None, clock=time.monotonic):
        super().__init__()
        self.chain = chain
        self.store = store
        self.config = config
        self.transcoder = config.transcoder or chain.address
        self.alerts = alerts or Alerts(store)
        self._clock = clock
        self._next_try = 0.0
        self._failures = 0
        self.last_error: str | None = None

    # ---------------------------------------------------------------- lifecycle
    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - tick handles chain errors; anything else is logged, not fatal
                log.exception("reward autopilot pass failed")
            self._stop.wait(self.config.poll_s)

    # ---------------------------------------------------------------- history
    def history(self, limit: int = 50) -> list[RoundOutcome]:
        with self.store.sessions() as s:
            rows = s.scalars(select(RewardRound).where(RewardRound.transcoder == self.transcoder)
                             .order_by(RewardRound.round.desc()).limit(limit))
            return [_outcome(r) for r in rows]

    def _row(self, s, rnd: int) -> RewardRound:
        row = s.get(RewardRound, (rnd, self.transcoder))
        if row is None:
            row = RewardRound(round=rnd, transcoder=self.transcoder, status="pending", attempts=0,
                              initialized_by_us=False)
            s.add(row)
        return row

    def _update(self, rnd: int, **fields) -> None:
        with self.store.sessions.begin() as s:
            row = self._row(s, rnd)
            for k, v in fields.items():
                setattr(row, k, v)

    # ---------------------------------------------------------------- one pass
    def _backoff(self, reason: str) -> None:
        self._failures += 1
        self.last_error = reason
        delay = min(self.config.backoff_max_s, self.config.backoff_base_s * 2 ** min(self._failures - 1, 16))
        self._next_try = self._clock() + delay

    def tick(self) -> RoundOutcome | None:
        if self._clock() < self._next_try:
            return None
        try:
            st = self.chain.status(self.transcoder)
        except Exception as exc:  # noqa: BLE001 - RPC outage: back off and try again
            self._backoff(f"cannot read the chain: {_reason(exc)}")
            log.warning("reward autopilot: %s", self.last_error)
            return None
        self._close_past_rounds(st.round)
        with self.store.sessions() as s:
            row = s.get(RewardRound, (st.round, self.transcoder))
            if row is not None and row.status in ("called", "inactive"):
                return _outcome(row)
        if st.paused:
            self._update(st.round, reason="the protocol is paused")
            return self._current(st.round)
        if not st.initialized:
            if not self.config.initialize_rounds:
                self._update(st.round, reason=f"waiting for someone to initialize round {st.round}")
                return self._current(st.round)
            if self._over_cap(st):
                return self._current(st.round)
            try:
                self.chain.initialize()
                self._update(st.round, initialized_by_us=True)
                log.info("reward autopilot: initialized round %d", st.round)
            except Exception as exc:  # noqa: BLE001
                reason = _reason(exc)
                if "already initialized" not in reason:
                    self._update(st.round, reason=f"initializing the round failed: {reason}")
                    self._backoff(reason)
                    return self._current(st.round)
            st = self.chain.status(self.transcoder)
        if not st.active:
            self._update(st.round, status="inactive", reason="not in the active set this round: no reward to call")
            return self._current(st.round)
        if st.last_reward_round >= st.round:
            with self.store.sessions() as s:
                row = s.get(RewardRound, (st.round, self.transcoder))
            if row is None or row.status != "called":
                self._update(st.round, status="called", reason="reward already called this round (found on chain)")
            self._failures = 0
            return self._current(st.round)
        if self._over_cap(st):
            return self._current(st.round)
        with self.store.sessions.begin() as s:
            row = self._row(s, st.round)
            row.attempts = (row.attempts or 0) + 1
            attempt = row.attempts
        try:
            res = self.chain.reward(self.transcoder)
        except Exception as exc:  # noqa: BLE001 - refused or reverted: retry with backoff, alert
            reason = _reason(exc)
            self._update(st.round, status="failed", reason=reason)
            self._backoff(reason)
            if attempt == 1 or self._failures in (3, 6):
                self.alerts.raise_("reward", f"reward call for round {st.round} failed (attempt {attempt}): {reason}")
            return self._current(st.round)
        self._failures = 0
        self.last_error = None
        self._update(st.round, status="called", tx_hash=res.tx_hash, minted_wei=str(res.minted), gas_used=res.gas_used,
                     fee_wei=str(res.fee_wei), reason=None)
        log.info("reward autopilot: called reward for round %d (tx %s, %d LPT wei minted)", st.round, res.tx_hash,
                 res.minted)
        return self._current(st.round)

    def _over_cap(self, st) -> bool:
        cap = self.config.max_gas_price
        if cap is not None and st.gas_price > cap:
            reason = over_gas_cap(st.gas_price, cap)
            self._update(st.round, reason=reason)
            self._backoff(reason)
            return True
        return False

    def _current(self, rnd: int) -> RoundOutcome:
        with self.store.sessions() as s:
            return _outcome(s.get(RewardRound, (rnd, self.transcoder)))

    def _close_past_rounds(self, current: int) -> None:
        """A past round still pending or failed was missed: record why and alert."""
        missed = []
        with self.store.sessions.begin() as s:
            for row in s.scalars(select(RewardRound).where(
                    RewardRound.transcoder == self.transcoder, RewardRound.round < current,
                    RewardRound.status.in_(("pending", "failed")))):
                why = row.reason or "no successful call before the round ended"
                row.status, row.reason = "missed", f"round ended without a reward call: {why}"
                missed.append((row.round, why))
        for rnd, why in missed:
            self.alerts.raise_("reward", f"missed the reward call of round {rnd}: {why}")
