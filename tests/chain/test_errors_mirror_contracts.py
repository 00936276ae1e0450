"""The Python exception tree mirrors the contracts' custom errors exactly (the packaged ABIs, which a test holds to
contracts/src), so reverts always decode by name."""

from __future__ import annotations

from crucible import errors
from crucible.chain.artifacts import packaged_contracts


def abi_errors() -> dict[str, tuple[str, ...]]:
    found: dict[str, tuple[str, ...]] = {}
    for abi in packaged_contracts().all_abis():
        for entry in abi:
            if entry["type"] == "error":
                found[entry["name"]] = tuple(i["name"] for i in entry["inputs"])
    return found


def test_every_contract_error_has_a_python_class_with_the_same_fields() -> None:
    for name, fields in abi_errors().items():
        cls = errors.ContractError.registry.get(name)
        assert cls is not None, f"no Python class for contract error {name}"
        assert cls.fields == fields, f"{name}: Python fields {cls.fields} != ABI fields {fields}"


def test_every_python_contract_error_exists_in_the_contracts() -> None:
    domain_bases = {"TokenError", "StakeError", "VaultError", "JobError", "LedgerError", "LibraryError"}
    declared = set(abi_errors())
    for name in errors.ContractError.registry:
        if name not in domain_bases:
            assert name in declared, f"{name} is declared in Python but no contract can revert with it"


def test_errors_render_values_for_people() -> None:
    error = errors.StakeTooLow("0xabc", 100 * 10**18, 40 * 10**18)
    assert str(error).startswith("StakeTooLow(account=0xabc, required=100 CRU, staked=40 CRU)")
    assert error.required == 100 * 10**18
    assert isinstance(error, errors.StakeError) and isinstance(error, errors.ChainError)
