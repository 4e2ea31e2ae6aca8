// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import "@openzeppelin/contracts/interfaces/IERC5805.sol";
import "@openzeppelin/contracts/utils/math/SafeCast.sol";

import "./Manager.sol";
import "./interfaces/IProtocol.sol";
import "./lib/PreciseMath.sol";

interface IBondingManagerEarnings {
    function getTranscoderEarningsPoolForRound(address _transcoder, uint256 _round)
        external
        view
        returns (
            uint256 totalStake,
            uint256 transcoderRewardCut,
            uint256 transcoderFeeShare,
            uint256 cumulativeRewardFactor,
            uint256 cumulativeFeeFactor
        );

    function nextRoundTotalActiveStake() external view returns (uint256);
}

/// ERC-5805 voting power derived from stake, with rounds as the clock (protocol.md §2.7).
///
/// BondingManager writes a checkpoint of an account's bonding state after every change; it takes
/// effect at the start of the next round. A registered transcoder votes with its delegated stake;
/// a delegator votes with its stake including rewards earned since its last claim (LIP-36 factors),
/// but only while its delegate is a registered transcoder. Total supply is the active stake.
contract BondingVotes is Manager, IERC5805 {
    uint256 internal constant FACTOR_ONE = 10**27;

    struct BondingCheckpoint {
        uint256 bondedAmount;
        address delegateAddress;
        uint256 delegatedAmount;
        uint256 lastClaimRound;
        uint256 lastRewardRound;
    }

    struct AccountCheckpoints {
        uint256[] startRounds; // ascending
        mapping(uint256 => BondingCheckpoint) data;
    }

    mapping(address => AccountCheckpoints) internal bondingCheckpoints;
    uint256[] internal totalStakeRounds; // ascending
    mapping(uint256 => uint256) internal totalStakeAt;

    /// A lookup for a round that is not yet in the past.
    error FutureLookup(uint256 queryRound, uint256 maxAllowed);
    error MustCallBondingManager(string bondingManagerFunction);
    error InvalidCaller(address caller, address required);
    error InvalidStartRound(uint256 checkpointRound, uint256 requiredRound);
    error FutureLastClaimRound(uint256 lastClaimRound, uint256 maxAllowed);
    error FutureTotalStakeCheckpoint(uint256 checkpointRound, uint256 maxAllowed);

    event DelegatorBondedAmountChanged(
        address indexed delegate,
        uint256 previousBondedAmount,
        uint256 previousLastClaimRound,
        uint256 newBondedAmount,
        uint256 newLastClaimRound
    );

    modifier onlyBondingManager() {
        address bm = _resolve("BondingManager");
        if (msg.sender != bm) revert InvalidCaller(msg.sender, bm);
        _;
    }

    modifier onlyPastRounds(uint256 _round) {
        uint256 current = clock();
        if (_round >= current) revert FutureLookup(_round, current == 0 ? 0 : current - 1);
        _;
    }

    constructor(address _controller) Manager(_controller) {}

    // ------------------------------------------------------------------ ERC-20-like metadata

    function name() external pure returns (string memory) {
        return "Livepeer Voting Power";
    }

    function symbol() external pure returns (string memory) {
        return "vLPT";
    }

    function decimals() external pure returns (uint8) {
        return 18;
    }

    // ------------------------------------------------------------------ ERC-6372 clock

    function clock() public view returns (uint48) {
        return SafeCast.toUint48(_roundsManager().currentRound());
    }

    // solhint-disable-next-line func-name-mixedcase
    function CLOCK_MODE() external pure returns (string memory) {
        return "mode=livepeer_round";
    }

    // ------------------------------------------------------------------ IVotes

    /// Power that will be active at the start of the next round.
    function getVotes(address _account) external view returns (uint256) {
        (uint256 votes, ) = getVotesAndDelegateAtRoundStart(_account, uint256(clock()) + 1);
        return votes;
    }

    /// Power at the end of `_round` (= the start of `_round + 1`); `_round` must be in the past.
    function getPastVotes(address _account, uint256 _round) external view onlyPastRounds(_round) returns (uint256) {
        (uint256 votes, ) = getVotesAndDelegateAtRoundStart(_account, _round + 1);
        return votes;
    }

    function totalSupply() external view returns (uint256) {
        return getTotalActiveStakeAt(clock());
    }

    function getPastTotalSupply(uint256 _round) external view onlyPastRounds(_round) returns (uint256) {
        return getTotalActiveStakeAt(_round);
    }

    function delegates(address _account) external view returns (address) {
        (, address delegateAddress) = getVotesAndDelegateAtRoundStart(_account, uint256(clock()) + 1);
        return delegateAddress;
    }

    function delegatedAt(address _account, uint256 _round) external view onlyPastRounds(_round) returns (address) {
        (, address delegateAddress) = getVotesAndDelegateAtRoundStart(_account, _round + 1);
        return delegateAddress;
    }

    /// Delegation is bonding: use BondingManager.bond.
    function delegate(address) external pure {
        revert MustCallBondingManager("bond");
    }

    function delegateBySig(address, uint256, uint256, uint8, bytes32, bytes32) external pure {
        revert MustCallBondingManager("bondFor");
    }

    // ------------------------------------------------------------------ round-keyed lookups

    function getVotesAndDelegateAtRoundStart(address _account, uint256 _round)
        public
        view
        returns (uint256 votes, address delegateAddress)
    {
        BondingCheckpoint memory bond = _checkpointAt(_account, _round);
        delegateAddress = bond.delegateAddress;
        if (bond.bondedAmount == 0) {
            votes = 0;
        } else if (delegateAddress == _account) {
            // A registered transcoder: its own stake, its delegators' and unclaimed rewards.
            votes = bond.delegatedAmount;
        } else {
            votes = _delegatorStakeAt(bond, _round);
        }
    }

    /// Total active stake of `_round` (set when the round was initialized).
    function getTotalActiveStakeAt(uint256 _round) public view returns (uint256) {
        uint256 current = clock();
        if (_round > current) revert FutureLookup(_round, current);
        (bool found, uint256 checkpointRound) = _upperLookup(totalStakeRounds, _round);
        if (_round == current && !_roundsManager().currentRoundInitialized() && (!found || checkpointRound != _round)) {
            // Not initialized yet: this is the stake initialization will snapshot.
            return IBondingManagerEarnings(_resolve("BondingManager")).nextRoundTotalActiveStake();
        }
        return found ? totalStakeAt[checkpointRound] : 0;
    }

    function hasCheckpoint(address _account) public view returns (bool) {
        return bondingCheckpoints[_account].startRounds.length > 0;
    }

    // ------------------------------------------------------------------ BondingManager hooks

    function checkpointBondingState(
        address _account,
        uint256 _startRound,
        uint256 _bondedAmount,
        address _delegateAddress,
        uint256 _delegatedAmount,
        uint256 _lastClaimRound,
        uint256 _lastRewardRound
    ) external onlyBondingManager {
        uint256 nextRound = uint256(clock()) + 1;
        if (_startRound != nextRound) revert InvalidStartRound(_startRound, nextRound);
        if (_lastClaimRound >= _startRound) revert FutureLastClaimRound(_lastClaimRound, _startRound - 1);

        BondingCheckpoint memory previous = _checkpointAt(_account, _startRound);
        BondingCheckpoint memory current = BondingCheckpoint({
            bondedAmount: _bondedAmount,
            delegateAddress: _delegateAddress,
            delegatedAmount: _delegatedAmount,
            lastClaimRound: _lastClaimRound,
            lastRewardRound: _lastRewardRound
        });
        AccountCheckpoints storage cps = bondingCheckpoints[_account];
        cps.data[_startRound] = current;
        _pushRound(cps.startRounds, _startRound);
        _emitChanges(_account, previous, current);
    }

    function checkpointTotalActiveStake(uint256 _totalStake, uint256 _round) external onlyBondingManager {
        uint256 current = clock();
        if (_round > current) revert FutureTotalStakeCheckpoint(_round, current);
        totalStakeAt[_round] = _totalStake;
        _pushRound(totalStakeRounds, _round);
    }

    // ------------------------------------------------------------------ internals

    function _emitChanges(address _account, BondingCheckpoint memory _prev, BondingCheckpoint memory _curr) internal {
        if (_prev.delegateAddress != _curr.delegateAddress) {
            emit DelegateChanged(_account, _prev.delegateAddress, _curr.delegateAddress);
        }
        uint256 prevVotes = _prev.delegateAddress == _account ? _prev.delegatedAmount : 0;
        uint256 currVotes = _curr.delegateAddress == _account ? _curr.delegatedAmount : 0;
        if (prevVotes != currVotes) {
            emit DelegateVotesChanged(_account, prevVotes, currVotes);
        }
        if (_prev.bondedAmount != _curr.bondedAmount || _prev.lastClaimRound != _curr.lastClaimRound) {
            emit DelegatorBondedAmountChanged(
                _account,
                _prev.bondedAmount,
                _prev.lastClaimRound,
                _curr.bondedAmount,
                _curr.lastClaimRound
            );
        }
    }

    /// A delegator's stake with rewards up to `_round`, or 0 if its delegate is not a registered
    /// transcoder at `_round`.
    function _delegatorStakeAt(BondingCheckpoint memory _bond, uint256 _round) internal view returns (uint256) {
        address delegateAddr = _bond.delegateAddress;
        BondingCheckpoint memory del = _checkpointAt(delegateAddr, _round);
        if (del.bondedAmount == 0 || del.delegateAddress != delegateAddr) {
            return 0;
        }
        uint256 rewardRound = del.lastRewardRound;
        if (rewardRound == 0 || rewardRound < _bond.lastClaimRound) {
            // No reward call since the delegator's last claim: nothing to add.
            return _bond.bondedAmount;
        }
        uint256 startFactor = _rewardFactor(delegateAddr, _bond.lastClaimRound);
        uint256 endFactor = _rewardFactor(delegateAddr, rewardRound);
        return PreciseMathUtils.percOf(_bond.bondedAmount, endFactor, startFactor);
    }

    function _rewardFactor(address _transcoder, uint256 _round) internal view returns (uint256) {
        (, , , uint256 crf, ) = IBondingManagerEarnings(_resolve("BondingManager")).getTranscoderEarningsPoolForRound(
            _transcoder,
            _round
        );
        return crf == 0 ? FACTOR_ONE : crf;
    }

    function _checkpointAt(address _account, uint256 _round) internal view returns (BondingCheckpoint memory) {
        AccountCheckpoints storage cps = bondingCheckpoints[_account];
        (bool found, uint256 startRound) = _upperLookup(cps.startRounds, _round);
        BondingCheckpoint memory empty;
        return found ? cps.data[startRound] : empty;
    }

    /// The greatest element of the ascending array `_rounds` that is <= `_round`.
    function _upperLookup(uint256[] storage _rounds, uint256 _round) internal view returns (bool, uint256) {
        uint256 lo = 0;
        uint256 hi = _rounds.length;
        while (lo < hi) {
            uint256 mid = (lo + hi) / 2;
            if (_rounds[mid] <= _round) lo = mid + 1;
            else hi = mid;
        }
        if (lo == 0) return (false, 0);
        return (true, _rounds[lo - 1]);
    }

    function _pushRound(uint256[] storage _rounds, uint256 _round) internal {
        uint256 len = _rounds.length;
        if (len > 0 && _rounds[len - 1] == _round) return;
        _rounds.push(_round);
    }

    function _roundsManager() internal view returns (IRoundsManager) {
        return IRoundsManager(_resolve("RoundsManager"));
    }
}
