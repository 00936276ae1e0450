"""Every random choice of the protocol, mirroring contracts/src/libraries/Sampling.sol bit for bit.

The randomness itself is on-chain (block.prevrandao recorded in blocks fixed in advance) and the seat draws are
stored by the ledger when a panel is drawn, so off-chain code only needs the pure functions below to work out what
an audit asks for; a shared test vector checks them against the contracts (through LedgerLens).
"""

from __future__ import annotations

from eth_abi import encode
from eth_utils import keccak

BPS = 10_000


def subject_key(job_id: int, round_: int, slot: int) -> bytes:
    return keccak(encode(["uint256", "uint16", "uint16"], [job_id, round_, slot]))


def audit_seed(randomness: bytes, subject: bytes) -> bytes:
    """The audit seed of a subject from the randomness recorded in its seed block."""
    return keccak(encode(["string", "bytes32", "bytes32"], ["crucible.audit", randomness, subject]))


def panel_seed(randomness: bytes, subject: bytes, panel: int, attempt: int) -> bytes:
    return keccak(
        encode(["string", "bytes32", "bytes32", "uint8", "uint256"], ["crucible.panel", randomness, subject, panel, attempt])
    )


def is_audited(seed: bytes, audit_bps: int) -> bool:
    return int.from_bytes(keccak(encode(["bytes32", "string"], [seed, "audit"])), "big") % BPS < audit_bps


def sampled_intervals(seed: bytes, count: int, intervals: int) -> list[int]:
    """`count` distinct interval indices out of `intervals`, in draw order (a partial Fisher-Yates shuffle over a
    virtual array, as the contract draws them)."""
    if not 0 < count <= intervals:
        raise ValueError(f"cannot sample {count} distinct intervals out of {intervals}")
    moved: dict[int, int] = {}
    out = []
    for j in range(count):
        span = intervals - j
        pick = int.from_bytes(keccak(encode(["bytes32", "string", "uint256"], [seed, "interval", j])), "big") % span
        last = span - 1
        out.append(moved.get(pick, pick))
        moved[pick] = moved.get(last, last)
    return out
