"""A sponsor posts a job from the command line: refused when cheating would pay, funded and pinned otherwise."""

from __future__ import annotations

import json
from pathlib import Path

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


@pytest.fixture(scope="module")
def profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real tolerance profile from `crucible engine calibrate` (a few replays: the format is what matters here)."""
    out = tmp_path_factory.mktemp("calibrated") / "tolerance.json"
    result = CliRunner().invoke(cli, ["engine", "calibrate", "--kind", "sft", "--replays", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_a_job_pins_the_calibrated_tolerance_from_a_file_or_a_cid(env, kubo: KuboNode, profile: Path) -> None:  # type: ignore[no-untyped-def]
    store = ArtifactStore(kubo.api_multiaddr)
    expected = store.cid_of(profile.read_bytes())
    for source in (str(profile), store.add(profile.read_bytes())):
        created = CliRunner().invoke(cli, ["--json", "job", "create", "--kind", "sft", "--compute-cost", "5",
                                           "--tolerance", source], env=env)  # fmt: skip
        assert created.exit_code == 0, created.output
        assert json.loads(created.stdout)["tolerance_cid"] == expected


def test_a_tolerance_that_does_not_fit_the_job_is_one_line(env, profile: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    not_a_profile = tmp_path / "other.json"
    not_a_profile.write_text('{"hello": 1}')
    cases = [
        (["--kind", "sft", "--tolerance", str(not_a_profile)], "is not a tolerance profile"),
        (["--kind", "sft", "--tolerance", str(tmp_path / "missing.json")], "neither a file nor a CID"),
        (["--kind", "pretrain", "--tolerance", str(profile)], "calibrate with --kind pretrain"),
        (["--kind", "sft", "--model", "small", "--tolerance", str(profile)], "calibrated for model 'tiny'"),
    ]
    for args, message in cases:
        result = CliRunner().invoke(cli, ["job", "create", "--compute-cost", "5", *args], env=env)
        assert result.exit_code == 2 and message in result.output and "--tolerance" in result.output, result.output


@pytest.mark.parametrize(("args", "option"), [
    (["--slots", "100000"], "--slots"), (["--rounds", "0"], "--rounds"), (["--intervals", "256"], "--intervals"),
    (["--audit-bps", "10001"], "--audit-bps"), (["--miner-reward", "1e60"], "--miner-reward"),
    (["--collateral", "NaN"], "--collateral"), (["--compute-cost", "Infinity"], "--compute-cost"),
    (["--collusion", "nan"], "--collusion"), (["--collusion", "1"], "--collusion"), (["--model", "huge"], "--model"),
    (["--ipfs-api", "http://127.0.0.1"], "--ipfs-api"),
])  # fmt: skip
def test_bad_job_parameters_are_one_line_naming_the_option(env, args: list[str], option: str) -> None:  # type: ignore[no-untyped-def]
    base = {"--kind": "sft", "--compute-cost": "5"}
    for given in args[::2]:
        base.pop(given, None)
    full = [x for pair in base.items() for x in pair] + args
    result = CliRunner().invoke(cli, ["job", "create", *full], env=env)
    assert result.exit_code == 2, result.output
    assert option in result.output and "Traceback" not in result.output


def test_a_contract_refusal_of_a_parameter_names_it(network: LocalNetwork, kubo: KuboNode) -> None:
    from crucible.errors import JobParamOutOfRange
    from crucible.protocol.types import JobParams
    from crucible.sponsor import post_job

    params = JobParams(audit_bps=20_000)  # past every client-side check: the registry's own validation answers
    with pytest.raises(JobParamOutOfRange) as refused:
        post_job(network.client, ArtifactStore(kubo.api_multiaddr), kind="sft", model="tiny", params=params,
                 compute_cost_wei=10**18, collusion=0.1, dataset_size=64)  # fmt: skip
    assert "JobParamOutOfRange(name=auditBps, value=20000, min=1, max=10000)" in str(refused.value)


def test_rounds_count_from_zero_in_every_view(env) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    created = json.loads(runner.invoke(cli, ["--json", "job", "create", "--kind", "sft", "--compute-cost", "5",
                                             "--rounds", "2"], env=env).stdout)  # fmt: skip
    job_id = created["job_id"]
    status = json.loads(runner.invoke(cli, ["--json", "job", "status", str(job_id)], env=env).stdout)
    listed = json.loads(runner.invoke(cli, ["--json", "job", "list"], env=env).stdout)
    (row,) = [r for r in listed["jobs"] if r["job"] == job_id]
    assert status["round"] == row["round"] == 0 and status["rounds"] == row["rounds"] == 2
    people = runner.invoke(cli, ["job", "status", str(job_id)], env=env)
    assert "round 0 of rounds 0-1" in people.output


def test_job_wait_gives_up_after_its_timeout(env) -> None:  # type: ignore[no-untyped-def]
    created = json.loads(CliRunner().invoke(cli, ["--json", "job", "create", "--kind", "sft", "--compute-cost", "5"],
                                            env=env).stdout)  # fmt: skip
    result = CliRunner().invoke(cli, ["job", "wait", str(created["job_id"]), "--timeout", "1"], env=env)
    assert result.exit_code == 1 and "did not complete in 1 s" in result.output
