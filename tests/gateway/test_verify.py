"""Local verification (core/gateway/verify.py) on real encoded bytes: decoded pixels against the reported
count, and the orchestrator's signature over the renditions' hashes."""

from __future__ import annotations

from eth_hash.auto import keccak

from core.gateway.verify import decoded_pixels, verify
from core.media.synthetic import make_segment
from core.payments.tickets import ZERO_ADDRESS, HashSigner


def test_pixels_are_counted_by_decoding_and_a_signature_must_be_the_orchestrators():
    small, big = make_segment(256, 144, 1.0), make_segment(426, 240, 1.0)
    assert decoded_pixels(small) == 30 * 256 * 144 and decoded_pixels(b"garbage") == 0
    rows = [("P144p", small, 30 * 256 * 144), ("P240p", big, 30 * 426 * 240)]
    orch, other = HashSigner(b"\x11" * 32), HashSigner(b"\x22" * 32)
    sig = orch.sign_message(keccak(small) + keccak(big))
    assert verify(rows, sig, orch.address).ok
    assert verify(rows, b"", ZERO_ADDRESS).ok  # offchain: no address, no signature to check
    forged = verify(rows, other.sign_message(keccak(small) + keccak(big)), orch.address)
    assert not forged.ok and forged.bad_signature and f"0x{orch.address.hex()}" in forged.reason
    lie = verify([rows[0], ("P240p", big, 2 * 30 * 426 * 240)], sig, orch.address)
    assert not lie.ok and not lie.bad_signature and "PixelMismatch" in lie.reason and lie.pixel_error == 30 * 426 * 240
