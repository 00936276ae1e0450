// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {CrucibleTest} from "./utils/CrucibleTest.sol";
import {ICrucibleToken} from "../src/interfaces/ICrucibleToken.sol";

contract CrucibleToken_Faucet is CrucibleTest {
    function test_faucet_mintsOnLocalChain() public {
        token.faucet(minerA, 5 ether);
        vm.assertEq(token.balanceOf(minerA), 5 ether, "minted");
    }

    function test_faucet_revertsOnOtherChains() public {
        vm.chainId(1);
        vm.expectRevert(abi.encodeWithSelector(ICrucibleToken.TokenFaucetUnavailable.selector, 1));
        token.faucet(minerA, 5 ether);
    }

    function test_faucet_revertsAboveCap() public {
        uint256 cap = token.FAUCET_MAX();
        vm.expectRevert(abi.encodeWithSelector(ICrucibleToken.TokenFaucetAmountTooLarge.selector, cap + 1, cap));
        token.faucet(minerA, cap + 1);
    }

    function test_burn_reducesSupply() public {
        token.faucet(minerA, 5 ether);
        vm.prank(minerA);
        token.burn(2 ether);
        vm.assertEq(token.totalSupply(), 3 ether, "burned");
    }
}
