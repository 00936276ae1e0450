"""Every random choice of the protocol, mirroring contracts/src/libraries/Sampling.sol bit for bit.

Validators use these to work out their own assignments from on-chain data; a shared test vector checks them
against the contracts (through LedgerLens).
"""

from __future__ import annotations

from eth_abi import encode
from eth_utils import keccak

BPS = 10_000


def seed_from_blockhash(block_hash: bytes, subject: bytes) -> bytes:
    return keccak(encode(["bytes32", "bytes32"], [block_hash, subject]))


def subject_key(job_id: int, round_: int, slot: int) -> bytes:
    return keccak(encode(["uint256", "uint16", "uint16"], [job_id, round_, slot]))


def is_audited(seed: bytes, audit_bps: int) -> bool:
    return int.from_bytes(keccak(encode(["bytes32", "string"], [seed, "audit"])), "big") % BPS < audit_bps


def interval(seed: bytes, j: int, intervals: int) -> int:
    return int.from_bytes(keccak(encode(["bytes32", "string", "uint256"], [seed, "interval", j])), "big") % intervals


def sampled_intervals(seed: bytes, count: int, intervals: int) -> list[int]:
    return [interval(seed, j, intervals) for j in range(count)]


def seat_draw(seed: bytes, panel: int, seat: int) -> int:
    return int.from_bytes(keccak(encode(["bytes32", "string", "uint8", "uint8"], [seed, "seat", panel, seat])), "big")
