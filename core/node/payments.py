"""The payment port: what the node asks of payments, and the offchain implementation.

go-livepeer runs these steps on every segment, in this order: decode the payment (402 on failure), check
the gateway's signature on the segment (403), process the tickets (400), require a balance of at least
one ticket's expected value (400 "Insufficient balance"). After a transcode it debits pixels x price
and signs the rendition hashes with the orchestrator's key.

`OffchainPayments` does what an offchain go-livepeer does: no signature checks, no tickets, every
payment accepted, an empty signature on results. The on-chain policy (ticket params, ticket validation,
balances, signing with the orchestrator key) is core/node/onchain.py.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Protocol


class PaymentError(Exception):
    """A payment was refused; the message goes back to the gateway (HTTP 400)."""


class SignatureError(Exception):
    """A gateway signature did not verify (HTTP 403 / gRPC error)."""


class PaymentPolicy(Protocol):
    @property
    def address(self) -> bytes:
        """The orchestrator's ETH address (20 bytes), empty offchain."""

    def verify_orchestrator_request(self, address: bytes, sig: bytes) -> None:
        """Check the gateway's signature over its own address (GetOrchestrator); SignatureError if bad."""

    def verify_segment(self, sender: bytes, seg_data, sig: bytes) -> None:
        """Check the gateway's signature over the segment metadata; SignatureError if bad."""

    def ticket_params(self, sender: bytes, manifest_id: bytes):
        """`net.TicketParams` for this gateway, or None (offchain)."""

    def ai_ticket_params(self, sender: bytes, base: Fraction):
        """(`net.TicketParams` or None, the price they commit to, wei per unit) for an AI request whose
        models cost `base` together (go-livepeer prices a GetOrchestrator with capabilities so)."""

    def process_payment(self, payment, manifest_id: bytes) -> None:
        """Validate and credit the tickets in a `net.Payment`; PaymentError if refused."""

    def has_sufficient_balance(self, sender: bytes, manifest_id: bytes) -> bool:
        ...

    def debit(self, sender: bytes, manifest_id: bytes, pixels: int) -> None:
        ...

    def sign(self, message: bytes) -> bytes:
        """The orchestrator's signature over keccak256(message); empty offchain."""

    def price_info(self, sender: bytes) -> tuple[int, int] | None:
        """(pricePerUnit, pixelsPerUnit) offered to this gateway, or None to advertise the node's flags."""

    def bind_metrics(self, metrics) -> None:
        """Count refusals and ticket value in the node's metrics."""

    def wei_per(self, currency: str) -> Fraction:
        """Wei per 1 unit of `currency` now (an AI price in USD is converted with it, as go-livepeer converts
        with its price feed); PaymentError saying why when there is no rate (offchain, no feed, not yet)."""


class OffchainPayments:
    """No blockchain: every payment is accepted and nothing is signed (as offchain go-livepeer)."""

    address = b""

    def verify_orchestrator_request(self, address: bytes, sig: bytes) -> None:
        return None

    def verify_segment(self, sender: bytes, seg_data, sig: bytes) -> None:
        return None

    def ticket_params(self, sender: bytes, manifest_id: bytes):
        return None

    def ai_ticket_params(self, sender: bytes, base: Fraction):
        return None, base

    def process_payment(self, payment, manifest_id: bytes) -> None:
        return None

    def has_sufficient_balance(self, sender: bytes, manifest_id: bytes) -> bool:
        return True

    def debit(self, sender: bytes, manifest_id: bytes, pixels: int) -> None:
        return None

    def sign(self, message: bytes) -> bytes:
        return b""

    def price_info(self, sender: bytes) -> tuple[int, int] | None:
        return None

    def bind_metrics(self, metrics) -> None:
        return None

    def wei_per(self, currency: str) -> Fraction:
        raise PaymentError(f"an offchain node has no price feed to convert {currency} to wei")
