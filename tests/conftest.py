"""Fixtures that start real daemons on free loopback ports and stop them: the chain and IPFS are never faked.

The chain is anvil, or Hardhat's node when CRUCIBLE_EVM=hardhat (scripts/test.sh runs a subset of the suite on it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from crucible.chain.deployment import ProtocolParams
from crucible.artifacts.store import ArtifactStore
from crucible.localnet.chain import LocalChain, start_chain
from crucible.localnet.kubo import KuboNode
from crucible.localnet.network import LocalNetwork, start_local_network

# Short epochs keep the tests quick: jobs use windows that resolve within 220 blocks (tests/protocol/roles.py FAST).
TEST_PROTOCOL = ProtocolParams(unbonding_period_blocks=1_000, epoch_blocks=300)  # unbonding > 3 epochs


@pytest.fixture(scope="module")
def chain() -> Iterator[LocalChain]:
    """A bare local chain (nothing deployed): anvil, or the node CRUCIBLE_EVM names."""
    node = start_chain()
    yield node
    node.close()


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNetwork]:
    """A local chain with the protocol deployed and ten dev accounts funded; deployment file in a temp dir."""
    directory: Path = tmp_path_factory.mktemp("deployments")
    net = start_local_network(deployments_dir=directory, params=TEST_PROTOCOL)
    yield net
    net.close()


@pytest.fixture(scope="module")
def kubo() -> Iterator[KuboNode]:
    """A real Kubo node on loopback with a private repository, offline (it never reaches out)."""
    node = KuboNode.start()
    yield node
    node.close()


@pytest.fixture(scope="module")
def store(kubo: KuboNode) -> ArtifactStore:
    return ArtifactStore(kubo.api_multiaddr, timeout=10)
