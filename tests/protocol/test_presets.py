"""The chain presets are consistent deployments: each epoch outlasts the longest resolution of a job under its
windows, unbonding outlasts three epochs, and the contracts accept both (a deployment with the preset's parameters
takes a job with its windows)."""

from __future__ import annotations

from dataclasses import astuple, replace
from pathlib import Path

import pytest

from crucible.artifacts.store import ArtifactStore
from crucible.chain.deploy import deploy_protocol
from crucible.chain.deployment import ProtocolParams
from crucible.errors import JobResolutionTooLong
from crucible.localnet.chain import LocalChain
from crucible.localnet.network import dev_accounts
from crucible.protocol import ledger
from crucible.protocol.presets import PRESETS, markdown_table, scaled_windows
from crucible.protocol.timelines import longest_resolution
from crucible.protocol.types import JobContent, JobParams, JobStatus

SECONDS_PER_HOUR = 3_600


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_a_preset_resolves_every_job_within_an_epoch_and_unbonds_after_three(name: str) -> None:
    preset = PRESETS[name]
    assert preset.longest_resolution_blocks < preset.epoch_blocks
    assert preset.unbonding_blocks > 3 * preset.epoch_blocks
    if name != "local":  # the real chains' windows are the same wall-clock time on either
        assert preset.seconds(preset.windows.commit_window) == 600
        assert preset.seconds(preset.windows.submit_window) == SECONDS_PER_HOUR


@pytest.mark.parametrize("name", ["l2-2s", "l1-12s"])
def test_the_contracts_take_a_job_with_the_presets_windows(name: str, chain: LocalChain, store: ArtifactStore) -> None:
    preset = PRESETS[name]
    deployer = dev_accounts(1)[0]
    client = deploy_protocol(chain.rpc_url, deployer, ProtocolParams(unbonding_period_blocks=preset.unbonding_blocks,
                                                                     epoch_blocks=preset.epoch_blocks))  # fmt: skip
    client.transact(client.token.functions.faucet(deployer.address, 10_000 * 10**18))
    resolution = client.call(client.registry.functions.longestResolution(astuple(preset.windows)))
    assert resolution == longest_resolution(preset.windows) == preset.longest_resolution_blocks
    spec = store.add(b'{"a job spec": "not read by the contracts"}')
    job = ledger.create_job(client, JobParams(windows=preset.windows), JobContent(bytes(32), bytes(32), bytes(32)), spec)
    assert ledger.job_state(client, job).status is JobStatus.ACTIVE
    assert ledger.job_params(client, job).windows == preset.windows
    too_long = replace(preset.windows, submit_window=preset.epoch_blocks, round_claim_window=preset.epoch_blocks)
    with pytest.raises(JobResolutionTooLong):
        ledger.create_job(client, JobParams(windows=too_long), JobContent(bytes(32), bytes(32), bytes(32)), spec)


def test_scaled_windows_grow_with_the_window_and_stay_valid() -> None:
    for window in (5, 10, 30):
        w = scaled_windows(window)
        assert (w.checkpoint_reveal_window, w.commit_window, w.reveal_window) == (window, window, window)
        assert w.round_claim_window >= w.submit_window
        assert longest_resolution(w) < longest_resolution(scaled_windows(window + 1))


def test_the_preset_table_in_the_docs_is_what_the_code_says() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text()
    assert markdown_table() in doc, "docs/protocol.md: paste `python -m crucible.protocol.presets` again"
