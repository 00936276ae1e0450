"""Where things live: the installed package, the checkout (when there is one), deployments, and the cache.

An installed wheel has no checkout: nothing a miner, validator or sponsor does may depend on one. Developer tools
(compiling the contracts, the ABI build, forge) look for the checkout through `checkout_root()`.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
# The directory above the package: the repository root in a checkout, site-packages in an installed wheel. Only
# developer tools and tests use the paths below it, and only in a checkout.
REPO_ROOT = PACKAGE_DIR.parent
CONTRACTS_DIR = REPO_ROOT / "contracts"
CONTRACT_SOURCES = CONTRACTS_DIR / "src"
NODE_MODULES = REPO_ROOT / "node_modules"


def checkout_root() -> Path | None:
    """The repository checkout this package runs from, or None for an installed package."""
    if (CONTRACT_SOURCES).is_dir() and (REPO_ROOT / "pyproject.toml").is_file():
        return REPO_ROOT
    return None


def user_dir() -> Path:
    """Per-user state of an installed package (~/.crucible): keys, journals, deployments outside a checkout."""
    return Path.home() / ".crucible"


# deployments/<chainId>.json: in the checkout for developers (as before), in ~/.crucible/deployments otherwise.
DEPLOYMENTS_DIR = (REPO_ROOT / "deployments") if checkout_root() else user_dir() / "deployments"


def cache_dir() -> Path:
    """Heavy, rebuildable things (compiled artifacts, Kubo) live outside the clone, shared by all checkouts."""
    root = Path(os.environ.get("CRUCIBLE_CACHE", Path.home() / ".cache" / "crucible"))
    root.mkdir(parents=True, exist_ok=True)
    return root


def node_binary(name: str) -> Path:
    """A binary shipped by an npm package of ours (anvil, forge): the checkout's node_modules, else PATH. A path that
    does not exist (for the error message) when neither has it."""
    candidate = NODE_MODULES / "@foundry-rs" / f"{name}-linux-amd64" / "bin" / name
    if candidate.exists():
        return candidate
    local = NODE_MODULES / ".bin" / name
    if local.exists():
        return local
    on_path = shutil.which(name)
    return Path(on_path) if on_path else candidate
