"""Time on real chains: every window of the protocol is counted in blocks, so a deployment and its jobs choose them
for the chain's block time. Three presets, each a consistent set (a test deploys each and posts a job with it):

- `local`: a local chain mining a block a second (`crucible network up`), windows short enough for a demo;
- `l2-2s`: an L2 with 2 s blocks (OP Stack chains, for instance): the same wall-clock windows as on an L1, many
  more blocks;
- `l1-12s`: Ethereum's 12 s slots.

What fixes each window (wall-clock time, then blocks):

- submit window: the slot's training, here an hour (a real job sets it for its own segment size);
- seed delay: blocks between a submission and the block whose randomness decides its audit; a keeper must get a
  `recordRandomness` transaction into exactly that block (the daemons send it when the block before is the head), so
  a few block times, with two retries built into the contracts;
- checkpoint reveal: the miner pins the sampled checkpoints and reveals them (minutes);
- commit: a drawn validator fetches the bundle, replays the sampled intervals and commits (the longest step);
- reveal: validators reveal their verdicts (minutes);
- unseal: a sentinel unseals a planted error (minutes);
- round claim: how long an open slot waits for a miner before a keeper vacates it (at least the submit window).

The deployment's epoch must outlast the longest resolution of any job (`longest_resolution`: every retry and a
dispute included), since validator weights move two epochs after a change; unbonding must outlast three epochs.
"""

from __future__ import annotations

from dataclasses import dataclass

from crucible.protocol.timelines import longest_resolution
from crucible.protocol.types import Windows


@dataclass(frozen=True)
class ChainPreset:
    name: str
    block_seconds: float
    windows: Windows
    epoch_blocks: int
    unbonding_blocks: int
    what: str

    def seconds(self, blocks: int) -> float:
        return blocks * self.block_seconds

    @property
    def longest_resolution_blocks(self) -> int:
        return longest_resolution(self.windows)


def scaled_windows(window: int) -> Windows:
    """Windows from one size (blocks): checkpoint reveal, commit and reveal take `window` blocks each, the submit
    window three times that, the round claim window six times; for local runs whose block time is fixed and whose
    roles share a machine (the benchmarks size `window` to their load)."""
    return Windows(submit_window=3 * window, seed_delay=1, checkpoint_reveal_window=window, commit_window=window,
                   reveal_window=window, unseal_window=max(3, window // 3), round_claim_window=6 * window)  # fmt: skip


PRESETS: dict[str, ChainPreset] = {
    "local": ChainPreset(
        "local",
        1.0,
        Windows(),
        epoch_blocks=100,
        unbonding_blocks=400,
        what="a local chain, a block a second (network up's defaults)",
    ),  # fmt: skip
    "l2-2s": ChainPreset(
        "l2-2s",
        2.0,
        Windows(
            submit_window=1_800,
            seed_delay=5,
            checkpoint_reveal_window=60,
            commit_window=300,
            reveal_window=150,
            unseal_window=60,
            round_claim_window=1_800,
        ),
        epoch_blocks=5_400,
        unbonding_blocks=43_200,
        what="an L2 with 2 s blocks",
    ),  # fmt: skip
    "l1-12s": ChainPreset(
        "l1-12s",
        12.0,
        Windows(
            submit_window=300,
            seed_delay=2,
            checkpoint_reveal_window=10,
            commit_window=50,
            reveal_window=25,
            unseal_window=10,
            round_claim_window=300,
        ),
        epoch_blocks=900,
        unbonding_blocks=7_200,
        what="Ethereum L1, 12 s slots",
    ),  # fmt: skip
}


def happy_settlement_blocks(w: Windows) -> int:
    """Blocks from a submission to the first block it can be settled in when its audit is not contested: the
    seed, the checkpoint reveal, the commit and reveal windows and the unseal window all run to their end."""
    return w.seed_delay + w.checkpoint_reveal_window + w.commit_window + w.reveal_window + w.unseal_window + 1


def disputed_settlement_blocks(w: Windows) -> int:
    """The same for a contested submission: a committee is drawn and votes after the unseal window."""
    return happy_settlement_blocks(w) + w.seed_delay + w.commit_window + w.reveal_window


def round_blocks(w: Windows, *, disputed: bool = False) -> int:
    """Blocks of one round beyond the miners' training time: each work slot claimed and submitted (a block each),
    settled (after a dispute when `disputed`), then the aggregation slot claimed, submitted and settled (an aggregate
    is always audited; it is built in seconds)."""
    work = 2 + (disputed_settlement_blocks(w) if disputed else happy_settlement_blocks(w))
    return work + 2 + happy_settlement_blocks(w)


def markdown_table() -> str:
    """The presets as docs/protocol.md shows them (`python -m crucible.protocol.presets`)."""
    lines = ["| preset | block | seed delay | checkpoint reveal | commit | reveal | unseal | submit | epoch | unbonding "
             "| submit -> settled | with a dispute | one round + training | with a dispute | longest resolution |",
             "|" + "---|" * 15]  # fmt: skip

    def t(p: ChainPreset, blocks: int) -> str:
        seconds = p.seconds(blocks)
        return f"{blocks:,} ({seconds / 60:.1f} min)" if seconds >= 120 else f"{blocks:,} ({seconds:.0f} s)"

    for p in PRESETS.values():
        w = p.windows
        lines.append(f"| `{p.name}` | {p.block_seconds:g} s | {w.seed_delay:,} | {w.checkpoint_reveal_window:,} | "
                     f"{w.commit_window:,} | {w.reveal_window:,} | {w.unseal_window:,} | {w.submit_window:,} | "
                     f"{p.epoch_blocks:,} | {p.unbonding_blocks:,} | {t(p, happy_settlement_blocks(w))} | "
                     f"{t(p, disputed_settlement_blocks(w))} | {t(p, round_blocks(w))} | "
                     f"{t(p, round_blocks(w, disputed=True))} | {t(p, p.longest_resolution_blocks)} |")  # fmt: skip
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_table())
