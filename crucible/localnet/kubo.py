"""A Kubo (IPFS) node on loopback that never reaches out: private repo, empty bootstrap list, MDNS off,
AutoConf off, routing off, telemetry off, API and gateway on 127.0.0.1, and `--offline` by default."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from crucible.errors import ConfigError, IpfsUnavailable
from crucible.localnet.ports import child_process_options, free_port, port_in_use, wait_for_port

KUBO_VERSION = "v0.43.0"


def kubo_binary() -> Path:
    """The Kubo built by scripts/setup/install_kubo.sh (CRUCIBLE_IPFS_BIN overrides)."""
    override = os.environ.get("CRUCIBLE_IPFS_BIN")
    if override:
        return Path(override)
    cache = Path(os.environ.get("CRUCIBLE_CACHE", Path.home() / ".cache" / "crucible"))
    return cache / "kubo" / KUBO_VERSION / "ipfs"


def _private_env(repo: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["IPFS_PATH"] = str(repo)
    env["IPFS_TELEMETRY"] = "off"
    return env


@dataclass
class KuboNode:
    """A running Kubo daemon with its own repository. Use as a context manager, or call close()."""

    repo: Path
    api_port: int
    gateway_port: int
    process: subprocess.Popen[bytes]
    owns_repo: bool = False
    _closed: bool = field(default=False, repr=False)

    @property
    def api_multiaddr(self) -> str:
        return f"/ip4/127.0.0.1/tcp/{self.api_port}/http"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @classmethod
    def start(
        cls,
        repo: Path | None = None,
        *,
        offline: bool = True,
        log_path: Path | None = None,
        ports: tuple[int, int] | None = None,
    ) -> KuboNode:
        binary = kubo_binary()
        if not binary.exists():
            raise ConfigError(f"Kubo not found at {binary}: run scripts/setup.sh (it builds Kubo {KUBO_VERSION})")
        if ports is not None:
            for port, what in zip(ports, ("RPC API", "gateway"), strict=True):
                if port_in_use(port):
                    raise ConfigError(
                        f"127.0.0.1:{port} (wanted for Kubo's {what}) is already in use (another IPFS node, or one "
                        f"left running? `ss -ltnp | grep :{port}` shows what holds it): stop it, or choose another "
                        "port with --ipfs-api /ip4/127.0.0.1/tcp/<port>/http"
                    )
        owns = repo is None
        repo = repo or Path(tempfile.mkdtemp(prefix="crucible-kubo-"))
        repo.mkdir(parents=True, exist_ok=True)
        env = _private_env(repo)
        api_port, gateway_port = ports or (free_port(), free_port())
        if not (repo / "config").exists():
            _run(binary, env, "init", "--profile", "test", "--empty-repo")
        # The test profile already binds 127.0.0.1 and empties the bootstrap list; we make every "never reach out"
        # setting explicit so a changed profile cannot quietly turn one back on.
        for key, value in [
            ("Addresses.API", f'"/ip4/127.0.0.1/tcp/{api_port}"'),
            ("Addresses.Gateway", f'"/ip4/127.0.0.1/tcp/{gateway_port}"'),
            ("Addresses.Swarm", '["/ip4/127.0.0.1/tcp/0"]'),
            ("Bootstrap", "[]"),
            ("Discovery.MDNS.Enabled", "false"),
            ("AutoConf.Enabled", "false"),
            ("Routing.Type", '"none"'),
            ("Plugins.Plugins.telemetry.Disabled", "true"),
        ]:
            _run(binary, env, "config", "--json", key, value)
        args = [str(binary), "daemon"] + (["--offline"] if offline else [])
        out = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115 - handed to the child
        process = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT, **child_process_options())  # type: ignore[call-overload]
        node = cls(repo=repo, api_port=api_port, gateway_port=gateway_port, process=process, owns_repo=owns)
        if not wait_for_port(api_port, timeout=60, alive=process):
            code = process.poll()
            node.close()
            detail = f"it exited with code {code}" if code is not None else "it did not answer in 60 s"
            where = f"; see {log_path}" if log_path else ""
            raise IpfsUnavailable(f"Kubo did not start its RPC API on 127.0.0.1:{api_port}: {detail}{where}")
        return node

    def stop(self) -> None:
        """Stops the daemon but keeps the repository (a restart sees the same pins)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def restart(self, *, same_ports: bool = False) -> KuboNode:
        """Starts a new daemon on the same repository (on new ports, or the same ones: clients keep working)."""
        self.stop()
        node = KuboNode.start(self.repo, ports=(self.api_port, self.gateway_port) if same_ports else None)
        node.owns_repo, self.owns_repo = self.owns_repo, False
        return node

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.stop()
        if self.owns_repo:
            shutil.rmtree(self.repo, ignore_errors=True)

    def __enter__(self) -> KuboNode:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _run(binary: Path, env: dict[str, str], *args: str) -> None:
    result = subprocess.run([str(binary), *args], env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ConfigError(f"ipfs {' '.join(args)} failed: {result.stderr.strip()}")
