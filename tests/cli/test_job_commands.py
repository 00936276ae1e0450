"""A sponsor posts a job from the command line: refused when cheating would pay, funded and pinned otherwise."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from crucible.artifacts.store import ArtifactStore
from crucible.cli.main import cli
from crucible.engine.jobspec import JobSpec
from crucible.localnet.kubo import KuboNode
from crucible.localnet.network import LocalNetwork


@pytest.fixture
def env(network: LocalNetwork, kubo: KuboNode) -> dict[str, str]:
    return {"CRUCIBLE_RPC_URL": network.rpc_url, "CRUCIBLE_DEPLOYMENT": str(network.deployment_file),
            "CRUCIBLE_PRIVATE_KEY": network.accounts[0].key.hex(), "CRUCIBLE_IPFS_API": kubo.api_multiaddr}  # fmt: skip


def test_a_job_under_which_cheating_pays_is_refused_and_nothing_is_sent(env, network: LocalNetwork) -> None:  # type: ignore[no-untyped-def]
    before = network.client.call(network.client.registry.functions.jobCount())
    result = CliRunner().invoke(cli, ["job", "create", "--kind", "sft", "--audit-bps", "100", "--compute-cost", "50"],
                                env=env)  # fmt: skip
    assert result.exit_code == 1 and "cheating pays" in result.output
    assert network.client.call(network.client.registry.functions.jobCount()) == before


def test_a_job_is_pinned_funded_and_shown(env, kubo: KuboNode) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    created = runner.invoke(cli, ["--json", "job", "create", "--kind", "sft", "--compute-cost", "5"], env=env)
    assert created.exit_code == 0, created.output
    posted = json.loads(created.stdout)
    assert posted["sampling_margin"] > 1
    spec = JobSpec.from_json(json.loads(ArtifactStore(kubo.api_multiaddr).fetch(posted["spec_cid"], max_bytes=10_000)))
    assert spec.kind == "sft" and spec.dataset_cid == posted["dataset_cid"]
    shown = runner.invoke(cli, ["--json", "job", "status", str(posted["job_id"])], env=env)
    assert shown.exit_code == 0, shown.output
    status = json.loads(shown.stdout)
    assert status["round"] == 0 and [s["status"] for s in status["slots"]] == ["OPEN", "OPEN", "OPEN"]
    assert status["escrow_wei"] > 0
    people = runner.invoke(cli, ["job", "status", str(posted["job_id"])], env=env)
    assert people.exit_code == 0 and "aggregate" in people.output


def test_an_unknown_job_is_one_clear_error(env) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(cli, ["job", "status", "999"], env=env)
    assert result.exit_code == 1 and "JobUnknown(jobId=999)" in result.output
