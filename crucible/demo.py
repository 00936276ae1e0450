"""The local network demo: the protocol's story run end to end on loopback, with a summary in a run folder.

For now the story is: a local chain comes up, the protocol is deployed and funded, and a miner stakes, unbonds and
withdraws after the unbonding period. It grows with the network (training jobs, audits, slashing).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from crucible.chain.deployment import ProtocolParams
from crucible.units import cru
from crucible.localnet.network import start_local_network
from crucible.protocol import ledger
from crucible.staking import add_stake, request_unbond, stake_view, withdraw_unbonded


def run_demo(run_dir: Path, console: Console) -> dict[str, object]:
    run_dir.mkdir(parents=True, exist_ok=True)
    summary: dict[str, object] = {}
    params = ProtocolParams(unbonding_period_blocks=300)
    with start_local_network(deployments_dir=run_dir, log_dir=run_dir, params=params, progress=console.log) as net:
        miner = net.client_for(net.accounts[1])
        console.rule("staking round trip")
        add_stake(miner, 250 * 10**18)
        console.log(f"miner {miner.sender} staked {cru(250 * 10**18)}")
        request_unbond(miner, 100 * 10**18)
        view = stake_view(miner, miner.sender)
        console.log(f"unbonding {cru(view.unbonding)}, withdrawable at block {view.unbond_ready_at}")
        net.mine(view.unbond_ready_at - miner.block_number())
        amount, _ = withdraw_unbonded(miner)
        console.log(f"withdrew {cru(amount)} after the unbonding period")
        final = stake_view(miner, miner.sender)
        books = ledger.books(miner)
        summary = {
            "rpc_url": net.rpc_url,
            "contracts": net.client.deployment.addresses,
            "miner": miner.sender,
            "miner_staked": final.staked,
            "miner_wallet": final.wallet,
            "books": books,
            "books_balance": ledger.books_balance(miner),
        }
    table = Table(title="demo summary", show_header=False)
    for key in ("miner", "miner_staked", "miner_wallet", "books_balance"):
        value = summary[key]
        table.add_row(key.replace("_", " "), cru(value) if isinstance(value, int) and not isinstance(value, bool) else str(value))
    console.print(table)
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    return summary


def default_run_dir() -> Path:
    return Path("runs") / f"demo-{time.strftime('%Y%m%d-%H%M%S')}"
