"""Letting time pass on a local development chain: the one place that uses node-specific mining methods (product
code never does; on a real chain, blocks come on their own)."""

from __future__ import annotations

from typing import Any

from crucible.errors import ConfigError

LOCAL_CHAIN_IDS = (31337, 1337)


def advance_blocks(w3: Any, blocks: int) -> None:
    """Local development chains only: mines `blocks` empty blocks at once (anvil_mine, or hardhat_mine on a Hardhat
    node), standing in for waiting. Refuses any other chain."""
    chain_id = int(w3.eth.chain_id)
    if chain_id not in LOCAL_CHAIN_IDS:
        raise ConfigError(f"chain {chain_id} is not a local development chain: blocks cannot be skipped there")
    for method in ("anvil_mine", "hardhat_mine"):
        response = w3.provider.make_request(method, [hex(blocks)])
        if "error" not in response:
            return
    raise ConfigError(f"the node at chain {chain_id} mines neither with anvil_mine nor hardhat_mine: {response['error']}")
