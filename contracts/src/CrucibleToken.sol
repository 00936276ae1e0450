// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {ICrucibleToken} from "./interfaces/ICrucibleToken.sol";

/// @title CrucibleToken
/// @notice The staking and reward token. Supply starts at zero; on local chains a faucet mints test tokens.
/// A production deployment would mint a fixed supply at genesis instead; the faucet cannot run there because
/// it checks `block.chainid` on every call, not once at deployment (a fork of a local chain id is still local).
contract CrucibleToken is ERC20Permit, ICrucibleToken {
    /// @inheritdoc ICrucibleToken
    uint256 public constant FAUCET_MAX = 1_000_000 ether;

    constructor() ERC20("Crucible", "CRU") ERC20Permit("Crucible") {}

    /// @inheritdoc ICrucibleToken
    function faucet(address to, uint256 amount) external {
        if (block.chainid != 31337 && block.chainid != 1337) revert TokenFaucetUnavailable(block.chainid);
        if (amount > FAUCET_MAX) revert TokenFaucetAmountTooLarge(amount, FAUCET_MAX);
        _mint(to, amount);
        emit FaucetDripped(to, amount);
    }

    /// @inheritdoc ICrucibleToken
    function burn(uint256 amount) external {
        _burn(msg.sender, amount);
    }
}
