"""Tickets: the TicketBroker ticket, its hash, expected value, win test and signatures.

Everything here is pure arithmetic on bytes (protocol.md §3.7):
- hash = keccak256(recipient ‖ sender ‖ faceValue ‖ winProb ‖ senderNonce ‖ recipientRandHash ‖ auxData),
  auxData = creationRound(32) ‖ creationRoundBlockHash(32);
- the sender signs the hash EIP-191 style ("\\x19Ethereum Signed Message:\\n32" ‖ hash), v = 27/28;
- it wins when keccak256(sig ‖ recipientRand(32)) < winProb; EV = faceValue × winProb / (2²⁵⁶ − 1).

Signatures are recovered with libsecp256k1 (coincurve), about 20× faster than eth-account's pure
Python path; low-s is enforced as in go-livepeer. Other node signatures (the segment credentials, the
GetOrchestrator request, Ping, rendition hashes) are EIP-191 signatures over keccak256(message).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from coincurve import PrivateKey, PublicKey
from eth_hash.auto import keccak

MAX_UINT256 = 2**256 - 1
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_HALF_N = SECP256K1_N // 2
_PREFIX32 = b"\x19Ethereum Signed Message:\n32"
ZERO_ADDRESS = b"\0" * 20


def u256(n: int) -> bytes:
    return n.to_bytes(32, "big")


def from_be(b: bytes) -> int:
    return int.from_bytes(b, "big") if b else 0


@dataclass(frozen=True, slots=True)
class Ticket:
    recipient: bytes  # 20 bytes
    sender: bytes  # 20 bytes
    face_value: int
    win_prob: int
    sender_nonce: int
    recipient_rand_hash: bytes  # 32 bytes
    creation_round: int
    creation_round_block_hash: bytes  # 32 bytes

    @property
    def aux_data(self) -> bytes:
        return u256(self.creation_round) + self.creation_round_block_hash.rjust(32, b"\0")

    def hash(self) -> bytes:
        return keccak(
            self.recipient + self.sender + u256(self.face_value) + u256(self.win_prob) + u256(self.sender_nonce)
            + self.recipient_rand_hash + self.aux_data
        )

    @property
    def ev(self) -> Fraction:
        return expected_value(self.face_value, self.win_prob)

    def abi_tuple(self) -> tuple:
        """The TicketBroker `Ticket` struct as web3 wants it (addresses as 0x-hex)."""
        return (checksum(self.recipient), checksum(self.sender), self.face_value, self.win_prob,
                self.sender_nonce, self.recipient_rand_hash, self.aux_data)


def expected_value(face_value: int, win_prob: int) -> Fraction:
    return Fraction(face_value * win_prob, MAX_UINT256)


def wins(sig: bytes, recipient_rand: int, win_prob: int) -> bool:
    return from_be(keccak(sig + u256(recipient_rand))) < win_prob


def rand_hash(recipient_rand: int) -> bytes:
    return keccak(u256(recipient_rand))


def eth_message_hash(hash32: bytes) -> bytes:
    """The EIP-191 digest of a 32-byte hash (what the TicketBroker recovers the signer from)."""
    return keccak(_PREFIX32 + hash32)


def recover(hash32: bytes, sig: bytes) -> bytes | None:
    """The 20-byte address that signed `hash32` EIP-191 style, or None for a malformed or high-s signature."""
    if len(sig) != 65:
        return None
    v = sig[64]
    if v >= 27:
        v -= 27
    if v not in (0, 1) or from_be(sig[32:64]) > _HALF_N:
        return None
    try:
        pub = PublicKey.from_signature_and_message(sig[:64] + bytes((v,)), eth_message_hash(hash32), hasher=None)
    except Exception:  # noqa: BLE001 - not a point on the curve, r or s out of range
        return None
    return keccak(pub.format(compressed=False)[1:])[12:]


def verify_message(address: bytes, message: bytes, sig: bytes) -> bool:
    """go-livepeer's VerifySig: an EIP-191 signature over keccak256(message) by `address`."""
    return bool(address) and recover(keccak(message), sig) == address


class HashSigner:
    """Signs 32-byte hashes EIP-191 style with a raw key (the gateway's ticket signer, benchmarks, tests).
    The node's own signatures go through the wallet instead (chain.wallet.Signer)."""

    def __init__(self, key: bytes):
        self._key = PrivateKey(key)
        self.address = keccak(self._key.public_key.format(compressed=False)[1:])[12:]

    def sign_hash(self, hash32: bytes) -> bytes:
        rs_v = self._key.sign_recoverable(eth_message_hash(hash32), hasher=None)
        return rs_v[:64] + bytes((rs_v[64] + 27,))

    def sign_message(self, message: bytes) -> bytes:
        return self.sign_hash(keccak(message))


def segment_message(manifest_id: bytes, seq: int, seg_hash: bytes, profile_names: list[str]) -> bytes:
    """What a gateway signs for a segment (go-livepeer's SegTranscodingMetadata.Flatten): manifestId ‖
    seq as 32 bytes ‖ the data hash ‖ the hex of keccak256(profile name)[:4] for each profile."""
    hexes = "".join(keccak(n.encode())[:4].hex() for n in profile_names)
    return manifest_id + u256(seq) + seg_hash + hexes.encode()


def orchestrator_request_message(address: bytes) -> bytes:
    """What a gateway signs in GetOrchestrator: its own address as checksummed hex text."""
    return checksum(address).encode()


def checksum(address: bytes) -> str:
    h = address.hex()
    digest = keccak(h.encode()).hex()
    return "0x" + "".join(c.upper() if int(d, 16) >= 8 else c for c, d in zip(h, digest))
