// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Vm} from "../utils/Vm.sol";
import {CrucibleToken} from "../../src/CrucibleToken.sol";
import {StakeManager} from "../../src/StakeManager.sol";
import {RewardVault} from "../../src/RewardVault.sol";
import {IStakeManager} from "../../src/interfaces/IStakeManager.sol";
import {IRewardVault} from "../../src/interfaces/IRewardVault.sol";

/// @notice The invariant handler's ghost books. Every token an account deposits, earns, loses to a slash, withdraws
/// or claims is read from the protocol's own events, never from the balances the invariants check, so an event that
/// misreports a move (or a move without its event) breaks per-actor conservation. Also counts every property
/// violation the handler can only observe while it acts (forge ignores reverts inside handler calls, so violations
/// are recorded here and asserted by the invariants).
abstract contract HandlerGhosts {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    CrucibleToken public immutable token;
    StakeManager public immutable stakes;
    RewardVault public immutable vault;

    /// @dev Every account the handler ever moved tokens for (the books invariants sum over these).
    address[] public accounts;
    mapping(address account => bool) internal _known;

    // ------------------------------------------------------------ money ghosts, from events
    mapping(address account => uint256) public ghostMinted; // faucet, by the handler
    mapping(address account => uint256) public ghostDeposited; // Staked
    mapping(address account => uint256) public ghostEarned; // EscrowPaid and PoolPaid credited to the account
    mapping(address account => uint256) public ghostSlashed; // Slashed and CollateralSlashed
    mapping(address account => uint256) public ghostWithdrawn; // Withdrawn (stake out)
    mapping(address account => uint256) public ghostClaimed; // RewardClaimed (rewards out)
    mapping(address account => uint256) public ghostEscrowFunded; // the sponsor's job escrows
    uint256 public ghostTotalMinted;
    uint256 public ghostBurned; // PoolBurned

    // ------------------------------------------------------------ violations (each must stay zero)
    uint256 public ghostEscrowShortfalls; // EscrowShortfall: a job's budget did not cover what it owed
    uint256 public ghostCollateralShortfalls; // CollateralShortfall: a slot's collateral was not locked
    uint256 public ghostDoubleSettlements; // a submission or a seat settled twice
    uint256 public ghostSliceMismatches; // a settled miner lost other than collateral + slice (or lost when it should not)
    uint256 public ghostHonestLossOutsideCapture; // an honest account's stake fell other than on a captured subject
    uint256 public ghostWrongWithoutCapture; // an audited subject ended against the truth with honest seats in the majority
    uint256 public ghostSteeredDraws; // a post-seed move changed a panel beyond the mover's own seat
    uint256 public ghostLateDrawsAccepted; // a panel drawn after its draw deadline (Timelines.drawDeadline)
    uint256 public ghostForeignUnseals; // a submission unsealed as a plant by anyone but its sponsor's sentinel

    // ------------------------------------------------------------ honest stake tracking
    mapping(address account => bool) public isHonest;
    address[] internal _honest;
    mapping(address account => uint256) internal _honestStake;
    /// @dev Set by a settlement wrapper for the one honest account the current settlement may slash, because the
    /// subject ended against the truth with attackers holding at least half of the deciding panel.
    address internal _lossAllowedFor;
    uint256 public ghostHonestCapturedLosses;

    constructor(CrucibleToken token_, StakeManager stakes_, RewardVault vault_) {
        token = token_;
        stakes = stakes_;
        vault = vault_;
    }

    function accountCount() external view returns (uint256) {
        return accounts.length;
    }

    function _account(address a, bool honest) internal {
        if (!_known[a]) {
            _known[a] = true;
            accounts.push(a);
        }
        if (honest && !isHonest[a]) {
            isHonest[a] = true;
            _honest.push(a);
        }
    }

    function _mint(address a, uint256 amount) internal {
        token.faucet(a, amount);
        ghostMinted[a] += amount;
        ghostTotalMinted += amount;
    }

    function _bonded(address a) internal view returns (uint256) {
        IStakeManager.StakeInfo memory info = stakes.stakeOf(a);
        return uint256(info.staked) + info.unbonding;
    }

    // ------------------------------------------------------------ the bracket around every action

    modifier tracked() {
        vm.getRecordedLogs(); // drop anything recorded outside an action
        vm.recordLogs();
        _;
        _ingest(vm.getRecordedLogs());
        _checkHonestStakes();
    }

    function _ingest(Vm.Log[] memory logs) internal {
        for (uint256 i; i < logs.length; ++i) {
            Vm.Log memory l = logs[i];
            if (l.topics.length == 0) continue;
            bytes32 t0 = l.topics[0];
            if (l.emitter == address(stakes)) _ingestStake(l, t0);
            else if (l.emitter == address(vault)) _ingestVault(l, t0);
        }
    }

    function _ingestStake(Vm.Log memory l, bytes32 t0) private {
        address a = l.topics.length > 1 ? address(uint160(uint256(l.topics[1]))) : address(0);
        if (t0 == IStakeManager.Staked.selector) {
            (uint256 amount,) = abi.decode(l.data, (uint256, uint256));
            ghostDeposited[a] += amount;
        } else if (t0 == IStakeManager.Withdrawn.selector) {
            ghostWithdrawn[a] += abi.decode(l.data, (uint256));
        } else if (t0 == IStakeManager.Slashed.selector) {
            (uint256 fromStake, uint256 fromUnbonding) = abi.decode(l.data, (uint256, uint256));
            ghostSlashed[a] += fromStake + fromUnbonding;
        } else if (t0 == IStakeManager.CollateralSlashed.selector) {
            (uint256 amount,) = abi.decode(l.data, (uint256, uint256));
            ghostSlashed[a] += amount;
        } else if (t0 == IStakeManager.CollateralShortfall.selector) {
            ++ghostCollateralShortfalls;
        }
    }

    function _ingestVault(Vm.Log memory l, bytes32 t0) private {
        if (t0 == IRewardVault.EscrowPaid.selector) {
            ghostEarned[address(uint160(uint256(l.topics[2])))] += abi.decode(l.data, (uint256));
        } else if (t0 == IRewardVault.PoolPaid.selector) {
            ghostEarned[address(uint160(uint256(l.topics[1])))] += abi.decode(l.data, (uint256));
        } else if (t0 == IRewardVault.RewardClaimed.selector) {
            ghostClaimed[address(uint160(uint256(l.topics[1])))] += abi.decode(l.data, (uint256));
        } else if (t0 == IRewardVault.PoolBurned.selector) {
            ghostBurned += abi.decode(l.data, (uint256));
        } else if (t0 == IRewardVault.EscrowShortfall.selector) {
            ++ghostEscrowShortfalls;
        }
    }

    /// @dev An honest account's bonded stake (staked + unbonding) only ever falls inside a settlement the handler
    /// classified as captured; anything else is a violation.
    function _checkHonestStakes() internal {
        for (uint256 i; i < _honest.length; ++i) {
            address a = _honest[i];
            uint256 nowStake = _bonded(a);
            uint256 was = _honestStake[a];
            if (nowStake < was) {
                if (a == _lossAllowedFor) ++ghostHonestCapturedLosses;
                else ++ghostHonestLossOutsideCapture;
            }
            _honestStake[a] = nowStake;
        }
        _lossAllowedFor = address(0);
    }
}
