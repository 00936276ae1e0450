"""Turns revert data into the matching exception of crucible.errors, using the packaged ABIs' error selectors."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import keccak, to_checksum_address

from crucible import errors
from crucible.chain.artifacts import packaged_contracts


def _signature(entry: dict[str, Any]) -> str:
    return f"{entry['name']}({','.join(_type(i) for i in entry['inputs'])})"


def _type(item: dict[str, Any]) -> str:
    if item["type"].startswith("tuple"):
        return "(" + ",".join(_type(c) for c in item["components"]) + ")" + item["type"][5:]
    return str(item["type"])


@lru_cache(maxsize=1)
def error_table() -> dict[bytes, tuple[str, list[str]]]:
    """selector -> (error name, argument types), over every deployed contract's ABI."""
    table: dict[bytes, tuple[str, list[str]]] = {}
    for abi in packaged_contracts().all_abis():
        for entry in abi:
            if entry.get("type") == "error":
                table[keccak(text=_signature(entry))[:4]] = (entry["name"], [_type(i) for i in entry["inputs"]])
    return table


def decode_revert(data: bytes | str | None, *, tx_hash: str | None = None) -> errors.TransactionReverted:
    """The exception for a revert payload: a ContractError subclass when we know the selector."""
    raw = _as_bytes(data)
    if len(raw) < 4:
        return errors.TransactionReverted("transaction reverted without a reason", data=raw, tx_hash=tx_hash)
    selector, body = raw[:4], raw[4:]
    if selector == keccak(text="Error(string)")[:4]:
        (reason,) = abi_decode(["string"], body)
        return errors.TransactionReverted(f"reverted: {reason}", data=raw, tx_hash=tx_hash)
    if selector == keccak(text="Panic(uint256)")[:4]:
        (code,) = abi_decode(["uint256"], body)
        return errors.TransactionReverted(f"panic 0x{code:02x} (arithmetic or assertion failure)", data=raw)
    known = error_table().get(selector)
    if known is None:
        return errors.TransactionReverted(f"reverted with unknown error 0x{raw.hex()}", data=raw, tx_hash=tx_hash)
    name, types = known
    values = tuple(
        to_checksum_address(v) if t == "address" else v for t, v in zip(types, abi_decode(types, body), strict=True)
    )
    cls = errors.ContractError.registry.get(name)
    if cls is None:
        return errors.TransactionReverted(f"{name}{tuple(values)}", data=raw, tx_hash=tx_hash)
    return cls(*values, tx_hash=tx_hash, data=raw)


def _as_bytes(data: bytes | str | None) -> bytes:
    if data is None:
        return b""
    if isinstance(data, bytes):
        return data
    text = data[2:] if data.startswith("0x") else data
    try:
        return bytes.fromhex(text)
    except ValueError:
        return b""
