"""Where things live: the repository checkout, its contracts and deployments, and the cache outside the clone."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CONTRACTS_DIR = REPO_ROOT / "contracts"
CONTRACT_SOURCES = CONTRACTS_DIR / "src"
NODE_MODULES = REPO_ROOT / "node_modules"
DEPLOYMENTS_DIR = REPO_ROOT / "deployments"


def cache_dir() -> Path:
    """Heavy, rebuildable things (compiled artifacts, Kubo) live outside the clone, shared by all checkouts."""
    root = Path(os.environ.get("CRUCIBLE_CACHE", Path.home() / ".cache" / "crucible"))
    root.mkdir(parents=True, exist_ok=True)
    return root


def node_binary(name: str) -> Path:
    """A binary shipped by an npm package of ours (anvil, forge)."""
    candidate = NODE_MODULES / "@foundry-rs" / f"{name}-linux-amd64" / "bin" / name
    if candidate.exists():
        return candidate
    return NODE_MODULES / ".bin" / name
