// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title Crucible staking token
/// @notice ERC20 with EIP-2612 permit. A faucet mints test tokens on local development chains only.
interface ICrucibleToken is IERC20 {
    /// @notice The faucet was called on a chain that is not a local development chain.
    error TokenFaucetUnavailable(uint256 chainId);
    /// @notice A faucet request asked for more than one call may mint.
    error TokenFaucetAmountTooLarge(uint256 requested, uint256 maximum);

    /// @notice Emitted when the faucet minted test tokens.
    event FaucetDripped(address indexed to, uint256 amount);

    /// @notice Mints `amount` test tokens to `to`. Reverts on any chain but a local one (31337, 1337).
    function faucet(address to, uint256 amount) external;

    /// @notice Burns `amount` of the caller's tokens (used to destroy slashed funds).
    function burn(uint256 amount) external;

    /// @notice The most one faucet call may mint.
    function FAUCET_MAX() external view returns (uint256);
}
