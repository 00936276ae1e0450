"""A failed transaction says what failed: a revert that only the mined block saw (two transactions racing in one
block, like two keepers settling the same submission) is decoded from the block's state, not guessed as 'out of
gas'; status codes carry their names."""

from __future__ import annotations

import threading
import time



from crucible.chain.client import ChainClient
from crucible.errors import LedgerWrongStatus, StakeInsufficientFree, TransactionReverted
from crucible.localnet.network import start_local_network


def test_a_transaction_that_lost_a_race_in_its_block_reports_the_contracts_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with start_local_network(deployments_dir=tmp_path) as net:
        client: ChainClient = net.client_for(net.accounts[1])
        w3 = client.w3
        client.transact(client.token.functions.approve(client.stakes.address, 100 * 10**18))
        client.transact(client.stakes.functions.stake(100 * 10**18))
        w3.provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]
        # The first unbond takes all the free stake; the second was estimated against the state before it.
        first = client.stakes.functions.requestUnbond(100 * 10**18).build_transaction(
            {"from": client.sender, "nonce": w3.eth.get_transaction_count(client.sender)})
        w3.eth.send_raw_transaction(client.account.sign_transaction(first).raw_transaction)  # type: ignore[union-attr]
        outcome: dict[str, BaseException] = {}

        def second() -> None:
            try:
                client.transact(client.stakes.functions.requestUnbond(1 * 10**18), gas=200_000)
            except TransactionReverted as exc:
                outcome["error"] = exc

        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(1.0)  # both are in the mempool now
        net.mine(1)
        thread.join(timeout=60)
        error = outcome.get("error")
        assert isinstance(error, StakeInsufficientFree), error
        assert "out of gas" not in str(error)


def test_status_codes_carry_their_names_and_a_hint() -> None:
    error = LedgerWrongStatus(b"\x01" * 32, 4)
    assert "status=4 (ACCEPTED)" in str(error) and "moved on already" in str(error)



