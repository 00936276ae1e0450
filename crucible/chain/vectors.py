"""Shared test vectors for the checkpoint Merkle tree, the interval sampling and the planted-error leaves, read by
both the Solidity and the Python test suites.

`python -m crucible.chain.vectors` rewrites contracts/test/vectors/merkle.json; the Python tests check that the
file is what this module produces, and the forge tests check that the contracts agree with the file.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from eth_abi import encode
from eth_utils import keccak, to_checksum_address

from crucible.chain.merkle import MerkleTree, checkpoint_leaf
from crucible.chain.sampling import sampled_intervals
from crucible.paths import CONTRACTS_DIR

VECTOR_FILE = CONTRACTS_DIR / "test" / "vectors" / "merkle.json"


def _digest(tag: str, i: int) -> bytes:
    return hashlib.sha256(f"{tag}-{i}".encode()).digest()


def plant_leaf(round_: int, slot: int, sentinel: str, salt: bytes) -> bytes:
    """Mirror of Commitments.plantLeaf: a double-hashed leaf of the sponsor's planted-error set."""
    inner = keccak(
        encode(["string", "uint16", "uint16", "address", "bytes32"],
               ["crucible.plant", round_, slot, to_checksum_address(sentinel), salt])  # fmt: skip
    )
    return keccak(inner)


def merkle_vectors() -> dict[str, Any]:
    cases = []
    for job_id, round_, slot, boundaries in [(1, 0, 0, 2), (7, 3, 5, 5), (42, 1, 2, 9)]:
        miner = "0x" + hashlib.sha256(f"miner-{job_id}".encode()).hexdigest()[:40]
        ckpts = [_digest(f"ckpt-{job_id}", i) for i in range(boundaries)]
        traces = [_digest(f"trace-{job_id}", i) for i in range(boundaries)]
        leaves = [checkpoint_leaf(job_id, round_, slot, miner, i, ckpts[i], traces[i]) for i in range(boundaries)]
        tree = MerkleTree.build(leaves)
        cases.append({
            "jobId": job_id, "round": round_, "slot": slot, "miner": miner, "depth": tree.depth,
            "checkpointDigests": ["0x" + c.hex() for c in ckpts],
            "traceDigests": ["0x" + t.hex() for t in traces],
            "leaves": ["0x" + leaf.hex() for leaf in leaves],
            "root": "0x" + tree.root.hex(),
            "proofs": [["0x" + p.hex() for p in tree.proof(i)] for i in range(boundaries)],
        })  # fmt: skip
    sampling = []
    for i, (m, intervals) in enumerate([(1, 1), (2, 3), (4, 4), (8, 9), (3, 255)]):
        seed = _digest("seed", i)
        sampling.append({"seed": "0x" + seed.hex(), "m": m, "intervals": intervals,
                         "picked": sampled_intervals(seed, m, intervals)})  # fmt: skip
    plants = []
    for i, (round_, slot) in enumerate([(0, 0), (3, 7)]):
        sentinel = "0x" + hashlib.sha256(f"sentinel-{i}".encode()).hexdigest()[:40]
        salt = _digest("salt", i)
        plants.append({"round": round_, "slot": slot, "sentinel": sentinel, "salt": "0x" + salt.hex(),
                       "leaf": "0x" + plant_leaf(round_, slot, sentinel, salt).hex()})  # fmt: skip
    return {"cases": cases, "sampling": sampling, "plants": plants}


def write(path: Path = VECTOR_FILE) -> None:
    path.write_text(json.dumps(merkle_vectors(), indent=2) + "\n")


if __name__ == "__main__":
    write()
    print(f"wrote {VECTOR_FILE}")
