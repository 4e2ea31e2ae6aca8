"""Ticket validation: tickets validated per second on one core, by the node's validator
(core/payments/validation.py: coincurve signature recovery, the payment's parameters checked once, the
sender's chain state cached per round) and, in the same run, by a straightforward eth-account based
validation (every check redone per ticket, the signature recovered by eth-account).

    .venv/bin/python bench/tickets.py                  # 20,000 tickets, batches of 10 per payment
    .venv/bin/python bench/tickets.py --tickets 50000 --batch 1

Chain reads are out of both measurements (the naive one gets the same cached state); the win
probability is mainnet-like (1 in 150,000), so the ledger is not written. Target: ≥ 10,000 tickets/s.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eth_abi.packed import encode_packed  # noqa: E402
from eth_account import Account  # noqa: E402
from eth_account.messages import encode_defunct  # noqa: E402
from eth_hash.auto import keccak  # noqa: E402

from core.payments.params import ParamsMaker  # noqa: E402
from core.payments.tickets import HashSigner, Ticket, checksum, u256  # noqa: E402
from core.payments.validation import ChainState, PaymentTickets, TicketValidator  # noqa: E402

FACE = 12 * 10**14
EV = 8 * 10**9


@dataclass(frozen=True)
class View:
    round: int = 100
    initialized: bool = True
    last_initialized_round: int = 100
    round_block_hash: bytes = b"\x11" * 32
    l1_block: int = 1_000
    round_length: int = 6_377
    ticket_validity_period: int = 2
    active: bool = True
    registered: bool = True
    pool_size: int = 100
    gas_price: int = 10**7


@dataclass(frozen=True)
class Funds:
    sender: str
    deposit: int = 10**18
    withdraw_round: int = 0
    reserve: int = 10**18
    claimable_reserve: int = 10**16


class CachedChain:
    """Stands in for the chain: the benchmark measures validation, not RPC."""

    address = "0x" + "22" * 20
    reads = 0

    def view(self):
        self.reads += 1
        return View()

    def sender_funds(self, sender):
        self.reads += 1
        return Funds(sender)


def make_payments(n: int, batch: int, recipient: bytes, params: ParamsMaker):
    sender = HashSigner(os.urandom(32))
    view = View()
    out = []
    for start in range(0, n, batch):
        issued = params.issue(sender.address, gas_price=view.gas_price, sender_max_float=10**18, l1_block=view.l1_block,
                              creation_round=view.last_initialized_round,
                              creation_round_block_hash=view.round_block_hash, price=Fraction(1))
        tickets = []
        for nonce in range(1, min(batch, n - start) + 1):
            t = Ticket(recipient, sender.address, issued.face_value, issued.win_prob, nonce, issued.recipient_rand_hash,
                       issued.creation_round, issued.creation_round_block_hash)
            tickets.append((nonce, sender.sign_hash(t.hash())))
        out.append(PaymentTickets(sender.address, recipient, issued.face_value, issued.win_prob,
                                  issued.recipient_rand_hash, issued.seed, issued.expiration_block,
                                  issued.creation_round, issued.creation_round_block_hash, Fraction(1), tuple(tickets)))
    return out


def fast(payments, recipient, params) -> tuple[int, float]:
    chain = CachedChain()
    validator = TicketValidator(recipient, params, ChainState(chain, view_ttl_s=3600), ledger=None)
    t0 = time.perf_counter()
    ok = 0
    for p in payments:
        ok += validator.validate(p).accepted
    return ok, time.perf_counter() - t0


def naive(payments, recipient, params) -> tuple[int, float]:
    """Every check per ticket, eth-account recovery, eth-abi packing (state from the same cache)."""
    view, funds = View(), Funds("")
    seen: set[tuple[bytes, int]] = set()
    t0 = time.perf_counter()
    ok = 0
    for p in payments:
        for nonce, sig in p.tickets:
            if funds.withdraw_round and funds.withdraw_round <= view.round + 1:
                continue
            if p.recipient != recipient or not view.active:
                continue
            aux = u256(p.creation_round) + p.creation_round_block_hash
            rand = params.recipient_rand(p.seed, p.sender, p.face_value, p.win_prob, p.expiration_block, p.price, aux)
            if keccak(u256(rand)) != p.recipient_rand_hash:
                continue
            h = keccak(encode_packed(["address", "address", "uint256", "uint256", "uint256", "bytes32", "bytes"], [
                checksum(p.recipient), checksum(p.sender), p.face_value, p.win_prob, nonce, p.recipient_rand_hash, aux]))
            if Account.recover_message(encode_defunct(primitive=h), signature=sig) != checksum(p.sender):
                continue
            if (p.recipient_rand_hash, nonce) in seen or p.expiration_block <= view.l1_block:
                continue
            seen.add((p.recipient_rand_hash, nonce))
            int.from_bytes(keccak(sig + u256(rand)), "big") < p.win_prob  # the win test (no ledger here)
            ok += 1
    return ok, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tickets", type=int, default=20_000)
    ap.add_argument("--batch", type=int, default=10, help="tickets per payment (go-livepeer sends 1 to a few)")
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    recipient = bytes.fromhex(CachedChain.address[2:])
    params = ParamsMaker(recipient, ticket_ev=EV)
    print(f"making {args.tickets:,} signed tickets in payments of {args.batch} …", file=sys.stderr)
    payments = make_payments(args.tickets, args.batch, recipient, params)
    naive_n = min(args.tickets, 5_000)
    n_payments = max(1, naive_n // args.batch)
    ok_fast, t_fast = fast(payments, recipient, params)
    ok_naive, t_naive = naive(payments[:n_payments], recipient, params)
    assert ok_fast == args.tickets, ok_fast
    print(f"{'validator':<36} {'tickets':>9} {'seconds':>9} {'tickets/s':>11}")
    print(f"{'lpc (coincurve, state per round)':<36} {ok_fast:>9,} {t_fast:>9.3f} {ok_fast / t_fast:>11,.0f}")
    print(f"{'straightforward (eth-account)':<36} {ok_naive:>9,} {t_naive:>9.3f} {ok_naive / t_naive:>11,.0f}")
    print(f"speed-up ×{(ok_fast / t_fast) / (ok_naive / t_naive):.1f}; target ≥ 10,000 tickets/s: "
          f"{'met' if ok_fast / t_fast >= 10_000 else 'NOT met'}")


if __name__ == "__main__":
    main()
