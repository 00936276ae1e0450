"""A finished segment on disk: the run's checkpoints plus `run.json`, so a miner that crashes after training resumes
from its finished work instead of training again (and submits exactly what it trained)."""

from __future__ import annotations

import json
from pathlib import Path

from crucible.engine.segment import SegmentRun, SegmentSpec

RUN_FILE = "run.json"
RESULT_FILE = "result.safetensors"


def save_run(run: SegmentRun, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / RESULT_FILE).write_bytes(run.result_bytes)
    record = {
        "spec": run.spec.to_json(),
        "checkpoints": [str(p.resolve()) for p in run.checkpoint_paths],
        "checkpoint_digests": [d.hex() for d in run.checkpoint_digests],
        "traces": run.traces,
        "trace_digests": [d.hex() for d in run.trace_digests],
        "merkle_root": run.merkle_root.hex(),
        "result_digest": run.result_digest.hex(),
        "leaves": [leaf.hex() for leaf in run.leaves],
        "attention": run.attention,
        "optimizer": run.optimizer,
        "checkpoint_size": run.checkpoint_size,
    }
    path = directory / RUN_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record))
    tmp.replace(path)  # atomic: a crash leaves either no record or a whole one
    return path


def load_run(directory: Path) -> SegmentRun:
    record = json.loads((directory / RUN_FILE).read_text())
    return SegmentRun(
        spec=SegmentSpec.from_json(record["spec"]),
        checkpoint_paths=[Path(p) for p in record["checkpoints"]],
        checkpoint_digests=[bytes.fromhex(d) for d in record["checkpoint_digests"]],
        traces=record["traces"],
        trace_digests=[bytes.fromhex(d) for d in record["trace_digests"]],
        merkle_root=bytes.fromhex(record["merkle_root"]),
        result_bytes=(directory / RESULT_FILE).read_bytes(),
        result_digest=bytes.fromhex(record["result_digest"]),
        leaves=[bytes.fromhex(leaf) for leaf in record["leaves"]],
        attention=record.get("attention", ""),
        optimizer=record.get("optimizer", ""),
        checkpoint_size=int(record.get("checkpoint_size", 0)),
    )
