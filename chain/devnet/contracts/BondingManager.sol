// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import "./Manager.sol";
import "./interfaces/IProtocol.sol";
import "./lib/PreciseMath.sol";

/// Bonding, delegation, the active orchestrator set and reward/fee accounting (protocol.md §2.1,
/// §3.3-§3.6). Same external ABI as the BondingManager on Arbitrum One.
///
/// Earnings use the LIP-36 cumulative factors: per orchestrator and round an earnings pool records
/// the stake the round's rewards were shared over and two running products (reward factor, fee
/// factor, 1e27 = 1.0). A delegator's stake and fees follow from the factors at its last claim round
/// and at the current round, so claiming is O(1).
///
/// The active set is a list sorted by stake (descending). Position hints are accepted for ABI
/// compatibility but not needed: the position is always found by walking from the head.
/// All LPT and fee ETH are held by the Minter.
contract BondingManager is Manager {
    uint256 internal constant MAX_FUTURE_ROUND = type(uint256).max;
    uint256 internal constant FACTOR_ONE = 10**27; // PreciseMathUtils 1.0

    enum DelegatorStatus {
        Pending,
        Bonded,
        Unbonded
    }

    enum TranscoderStatus {
        NotRegistered,
        Registered
    }

    struct UnbondingLock {
        uint256 amount;
        uint256 withdrawRound;
    }

    struct Delegator {
        uint256 bondedAmount; // as of lastClaimRound
        uint256 fees; // claimed, withdrawable fees
        address delegateAddress;
        uint256 delegatedAmount; // stake delegated to this address (its total stake if a transcoder)
        uint256 startRound; // the round the current delegation takes effect
        uint256 lastClaimRound;
        uint256 nextUnbondingLockId;
        mapping(uint256 => UnbondingLock) unbondingLocks;
    }

    struct EarningsPool {
        uint256 totalStake;
        uint256 transcoderRewardCut;
        uint256 transcoderFeeShare;
        uint256 cumulativeRewardFactor;
        uint256 cumulativeFeeFactor;
    }

    struct Transcoder {
        uint256 lastRewardRound;
        uint256 rewardCut;
        uint256 feeShare;
        uint256 lastActiveStakeUpdateRound;
        uint256 activationRound;
        uint256 deactivationRound;
        uint256 activeCumulativeRewards; // cumulativeRewards when reward() was last called
        uint256 cumulativeRewards; // unclaimed rewards owed to the transcoder beyond its bonded stake
        uint256 cumulativeFees; // unclaimed fees owed to the transcoder beyond the fee factor
        uint256 lastFeeRound;
        mapping(uint256 => EarningsPool) earningsPoolPerRound;
    }

    struct PoolNode {
        uint256 key;
        address prev;
        address next;
        bool inPool;
    }

    uint64 public unbondingPeriod;
    uint256 public currentRoundTotalActiveStake;
    uint256 public nextRoundTotalActiveStake;
    uint256 public treasuryRewardCutRate; // PreciseMathUtils percentage
    uint256 public nextRoundTreasuryRewardCutRate;
    uint256 public treasuryBalanceCeiling;
    mapping(address => address) public transcoderToRewardCaller;

    mapping(address => Delegator) internal delegators;
    mapping(address => Transcoder) internal transcoders;

    // The active set for the next round: a doubly linked list sorted by stake, highest first.
    mapping(address => PoolNode) internal poolNodes;
    address internal poolHead;
    address internal poolTail;
    uint256 internal poolSize;
    uint256 internal poolMaxSize;

    event TranscoderUpdate(address indexed transcoder, uint256 rewardCut, uint256 feeShare);
    event TranscoderActivated(address indexed transcoder, uint256 activationRound);
    event TranscoderDeactivated(address indexed transcoder, uint256 deactivationRound);
    event TranscoderSlashed(address indexed transcoder, address finder, uint256 penalty, uint256 finderReward);
    event Reward(address indexed transcoder, uint256 amount);
    event TreasuryReward(address indexed transcoder, address treasury, uint256 amount);
    event Bond(
        address indexed newDelegate,
        address indexed oldDelegate,
        address indexed delegator,
        uint256 additionalAmount,
        uint256 bondedAmount
    );
    event Unbond(
        address indexed delegate,
        address indexed delegator,
        uint256 unbondingLockId,
        uint256 amount,
        uint256 withdrawRound
    );
    event Rebond(address indexed delegate, address indexed delegator, uint256 unbondingLockId, uint256 amount);
    event TransferBond(
        address indexed oldDelegator,
        address indexed newDelegator,
        uint256 oldUnbondingLockId,
        uint256 newUnbondingLockId,
        uint256 amount
    );
    event WithdrawStake(address indexed delegator, uint256 unbondingLockId, uint256 amount, uint256 withdrawRound);
    event WithdrawFees(address indexed delegator, address recipient, uint256 amount);
    event EarningsClaimed(
        address indexed delegate,
        address indexed delegator,
        uint256 rewards,
        uint256 fees,
        uint256 startRound,
        uint256 endRound
    );
    event RewardCallerSet(address indexed transcoder, address indexed rewardCaller);

    modifier onlyTicketBroker() {
        require(msg.sender == _resolve("TicketBroker"), "caller must be TicketBroker");
        _;
    }

    modifier onlyRoundsManager() {
        require(msg.sender == _resolve("RoundsManager"), "caller must be RoundsManager");
        _;
    }

    modifier onlyVerifier() {
        require(msg.sender == _resolve("Verifier"), "caller must be Verifier");
        _;
    }

    modifier currentRoundInitialized() {
        require(_roundsManager().currentRoundInitialized(), "current round is not initialized");
        _;
    }

    constructor(address _controller) Manager(_controller) {}

    // ------------------------------------------------------------------ owner parameters

    function setUnbondingPeriod(uint64 _unbondingPeriod) external onlyControllerOwner {
        unbondingPeriod = _unbondingPeriod;
        emit ParameterUpdate("unbondingPeriod");
    }

    function setNumActiveTranscoders(uint256 _numActiveTranscoders) external onlyControllerOwner {
        require(_numActiveTranscoders > poolMaxSize, "new max size must be greater than old max size");
        poolMaxSize = _numActiveTranscoders;
        emit ParameterUpdate("numActiveTranscoders");
    }

    /// The new rate applies from the next initialized round.
    function setTreasuryRewardCutRate(uint256 _cutRate) external onlyControllerOwner {
        _setTreasuryRewardCutRate(_cutRate);
    }

    function setTreasuryBalanceCeiling(uint256 _ceiling) external onlyControllerOwner {
        treasuryBalanceCeiling = _ceiling;
        emit ParameterUpdate("treasuryBalanceCeiling");
    }

    // ------------------------------------------------------------------ transcoder writes

    function transcoder(uint256 _rewardCut, uint256 _feeShare) external {
        transcoderWithHint(_rewardCut, _feeShare, address(0), address(0));
    }

    function transcoderWithHint(uint256 _rewardCut, uint256 _feeShare, address, address)
        public
        whenSystemNotPaused
        currentRoundInitialized
    {
        IRoundsManager rm = _roundsManager();
        require(!rm.currentRoundLocked(), "can't update transcoder params, current round is locked");
        require(MathUtils.validPerc(_rewardCut), "invalid rewardCut percentage");
        require(MathUtils.validPerc(_feeShare), "invalid feeShare percentage");
        require(isRegisteredTranscoder(msg.sender), "transcoder must be registered");

        Transcoder storage t = transcoders[msg.sender];
        uint256 round = rm.currentRound();
        require(
            !isActiveTranscoder(msg.sender) || t.lastRewardRound == round,
            "caller can't be active or must have already called reward for the current round"
        );

        t.rewardCut = _rewardCut;
        t.feeShare = _feeShare;
        if (!poolNodes[msg.sender].inPool) {
            _tryToJoinActiveSet(msg.sender, delegators[msg.sender].delegatedAmount, round + 1);
        }
        emit TranscoderUpdate(msg.sender, _rewardCut, _feeShare);
    }

    function reward() external {
        rewardWithHint(address(0), address(0));
    }

    function rewardWithHint(address, address) public whenSystemNotPaused currentRoundInitialized {
        _reward(msg.sender);
    }

    /// LIP-118: let another address call reward on the caller's behalf (zero address unsets).
    function setRewardCaller(address _rewardCaller) external whenSystemNotPaused {
        transcoderToRewardCaller[msg.sender] = _rewardCaller;
        emit RewardCallerSet(msg.sender, _rewardCaller);
    }

    function rewardForTranscoder(address _transcoder) external {
        rewardForTranscoderWithHint(_transcoder, address(0), address(0));
    }

    function rewardForTranscoderWithHint(address _transcoder, address, address)
        public
        whenSystemNotPaused
        currentRoundInitialized
    {
        require(
            msg.sender != address(0) && transcoderToRewardCaller[_transcoder] == msg.sender,
            "caller must be the transcoder's reward caller"
        );
        _reward(_transcoder);
    }

    // ------------------------------------------------------------------ delegator writes

    function bond(uint256 _amount, address _to) external {
        bondForWithHint(_amount, msg.sender, _to, address(0), address(0), address(0), address(0));
    }

    function bondWithHint(
        uint256 _amount,
        address _to,
        address _oldDelegateNewPosPrev,
        address _oldDelegateNewPosNext,
        address _currDelegateNewPosPrev,
        address _currDelegateNewPosNext
    ) external {
        bondForWithHint(
            _amount,
            msg.sender,
            _to,
            _oldDelegateNewPosPrev,
            _oldDelegateNewPosNext,
            _currDelegateNewPosPrev,
            _currDelegateNewPosNext
        );
    }

    function bondForWithHint(
        uint256 _amount,
        address _owner,
        address _to,
        address,
        address,
        address,
        address
    ) public whenSystemNotPaused currentRoundInitialized {
        uint256 round = _roundsManager().currentRound();
        if (msg.sender != _owner) {
            _checkThirdPartyBond(_owner, _to, round);
        }
        _autoClaimEarnings(_owner, round);
        _bond(_amount, _owner, _to, round);
        _checkpoint(_owner);
    }

    function unbond(uint256 _amount) external {
        unbondWithHint(_amount, address(0), address(0));
    }

    function unbondWithHint(uint256 _amount, address, address) public whenSystemNotPaused currentRoundInitialized {
        uint256 round = _roundsManager().currentRound();
        _autoClaimEarnings(msg.sender, round);
        _unbond(msg.sender, _amount, round);
        _checkpoint(msg.sender);
    }

    function rebond(uint256 _unbondingLockId) external {
        rebondWithHint(_unbondingLockId, address(0), address(0));
    }

    function rebondWithHint(uint256 _unbondingLockId, address, address)
        public
        whenSystemNotPaused
        currentRoundInitialized
    {
        uint256 round = _roundsManager().currentRound();
        _autoClaimEarnings(msg.sender, round);
        require(delegatorStatus(msg.sender) != DelegatorStatus.Unbonded, "caller must be bonded");
        _processRebond(msg.sender, _unbondingLockId, round);
        _checkpoint(msg.sender);
    }

    function rebondFromUnbonded(address _to, uint256 _unbondingLockId) external {
        rebondFromUnbondedWithHint(_to, _unbondingLockId, address(0), address(0));
    }

    function rebondFromUnbondedWithHint(address _to, uint256 _unbondingLockId, address, address)
        public
        whenSystemNotPaused
        currentRoundInitialized
    {
        uint256 round = _roundsManager().currentRound();
        _autoClaimEarnings(msg.sender, round);
        require(delegatorStatus(msg.sender) == DelegatorStatus.Unbonded, "caller must be unbonded");
        Delegator storage del = delegators[msg.sender];
        del.startRound = round + 1;
        del.delegateAddress = _to;
        _processRebond(msg.sender, _unbondingLockId, round);
        _checkpoint(msg.sender);
    }

    function withdrawStake(uint256 _unbondingLockId) external whenSystemNotPaused currentRoundInitialized {
        Delegator storage del = delegators[msg.sender];
        UnbondingLock storage lock = del.unbondingLocks[_unbondingLockId];
        require(isValidUnbondingLock(msg.sender, _unbondingLockId), "invalid unbonding lock ID");
        require(
            lock.withdrawRound <= _roundsManager().currentRound(),
            "withdraw round must be before or equal to the current round"
        );
        uint256 amount = lock.amount;
        uint256 withdrawRound = lock.withdrawRound;
        delete del.unbondingLocks[_unbondingLockId];
        _minter().trustedTransferTokens(msg.sender, amount);
        emit WithdrawStake(msg.sender, _unbondingLockId, amount, withdrawRound);
    }

    function withdrawFees(address payable _recipient, uint256 _amount)
        external
        whenSystemNotPaused
        currentRoundInitialized
    {
        _autoClaimEarnings(msg.sender, _roundsManager().currentRound());
        require(_recipient != address(0), "invalid recipient");
        Delegator storage del = delegators[msg.sender];
        require(del.fees >= _amount, "insufficient fees to withdraw");
        del.fees -= _amount;
        _minter().trustedWithdrawETH(_recipient, _amount);
        emit WithdrawFees(msg.sender, _recipient, _amount);
        _checkpoint(msg.sender);
    }

    /// `_endRound` is ignored: earnings are always claimed up to the current round.
    function claimEarnings(uint256) external whenSystemNotPaused currentRoundInitialized {
        _autoClaimEarnings(msg.sender, _roundsManager().currentRound());
        _checkpoint(msg.sender);
    }

    /// Move `_amount` of the caller's bond to `_delegator` (an unbond and a rebond in one step).
    function transferBond(address _delegator, uint256 _amount, address, address, address, address)
        external
        whenSystemNotPaused
        currentRoundInitialized
    {
        _transferBond(_delegator, _amount);
    }

    function _transferBond(address _delegator, uint256 _amount) internal {
        uint256 round = _roundsManager().currentRound();
        _autoClaimEarnings(msg.sender, round);
        Delegator storage oldDel = delegators[msg.sender];
        address oldDelegate = oldDel.delegateAddress;
        _unbond(msg.sender, _amount, round);

        uint256 oldLockId = oldDel.nextUnbondingLockId - 1;
        uint256 withdrawRound = oldDel.unbondingLocks[oldLockId].withdrawRound;
        delete oldDel.unbondingLocks[oldLockId];

        Delegator storage newDel = delegators[_delegator];
        uint256 newLockId = newDel.nextUnbondingLockId;
        newDel.unbondingLocks[newLockId] = UnbondingLock({amount: _amount, withdrawRound: withdrawRound});
        newDel.nextUnbondingLockId = newLockId + 1;
        emit TransferBond(msg.sender, _delegator, oldLockId, newLockId, _amount);

        _autoClaimEarnings(_delegator, round);
        if (newDel.delegateAddress == address(0)) {
            newDel.delegateAddress = oldDelegate;
        }
        if (delegatorStatus(_delegator) == DelegatorStatus.Unbonded) {
            newDel.startRound = round + 1;
        }
        _processRebond(_delegator, newLockId, round);
        _checkpoint(msg.sender);
        _checkpoint(_delegator);
    }

    /// Write an account's current bonding state to BondingVotes (gives pre-existing accounts a vote).
    function checkpointBondingState(address _account) external {
        _checkpoint(_account);
    }

    // ------------------------------------------------------------------ protocol hooks

    /// Called by RoundsManager.initializeRound: the stake that became active this round.
    function setCurrentRoundTotalActiveStake() external onlyRoundsManager {
        currentRoundTotalActiveStake = nextRoundTotalActiveStake;
        if (nextRoundTreasuryRewardCutRate != treasuryRewardCutRate) {
            treasuryRewardCutRate = nextRoundTreasuryRewardCutRate;
            emit ParameterUpdate("treasuryRewardCutRate");
        }
        _bondingVotes().checkpointTotalActiveStake(currentRoundTotalActiveStake, _roundsManager().currentRound());
    }

    /// Called by TicketBroker for each winning ticket: book `_fees` in the current round's pool.
    /// `_round` (the ticket's creation round) is ignored, as on mainnet since LIP-36.
    function updateTranscoderWithFees(address _transcoder, uint256 _fees, uint256)
        external
        whenSystemNotPaused
        onlyTicketBroker
    {
        require(isRegisteredTranscoder(_transcoder), "transcoder must be registered");
        uint256 round = _roundsManager().currentRound();
        Transcoder storage t = transcoders[_transcoder];
        EarningsPool storage pool = t.earningsPoolPerRound[round];
        (uint256 prevCrf, uint256 prevCff) = _latestFactors(t, round - 1);

        uint256 activeCumulativeRewards = t.activeCumulativeRewards;
        if (round > t.lastRewardRound) {
            // reward() not called yet this round: initialise the pool from the current settings.
            pool.transcoderRewardCut = t.rewardCut;
            pool.transcoderFeeShare = t.feeShare;
            uint256 lastUpdate = t.lastActiveStakeUpdateRound;
            if (lastUpdate < round) {
                pool.totalStake = t.earningsPoolPerRound[lastUpdate].totalStake;
            }
            activeCumulativeRewards = t.cumulativeRewards;
        }
        if (prevCrf == 0 && t.lastRewardRound == round) {
            prevCrf = _retroactivePrevRewardFactor(pool);
        }

        uint256 delegatorsFees = MathUtils.percOf(_fees, pool.transcoderFeeShare);
        uint256 commission = _fees - delegatorsFees;
        uint256 ownStakeFees = PreciseMathUtils.percOf(delegatorsFees, activeCumulativeRewards, pool.totalStake);
        t.cumulativeFees += ownStakeFees + commission;

        if (prevCrf == 0) prevCrf = FACTOR_ONE;
        uint256 increment = PreciseMathUtils.percOf(prevCrf, delegatorsFees, pool.totalStake);
        if (pool.cumulativeFeeFactor == 0) {
            pool.cumulativeFeeFactor = prevCff + increment;
        } else {
            pool.cumulativeFeeFactor += increment;
        }
        t.lastFeeRound = round;
    }

    /// Slashing is not used on Arbitrum One (no Verifier is registered); kept for ABI parity.
    function slashTranscoder(address _transcoder, address _finder, uint256 _slashAmount, uint256 _finderFee)
        external
        whenSystemNotPaused
        onlyVerifier
    {
        _autoClaimEarnings(_transcoder, _roundsManager().currentRound());
        Delegator storage del = delegators[_transcoder];
        if (del.bondedAmount == 0) {
            emit TranscoderSlashed(_transcoder, _finder, 0, 0);
            return;
        }
        uint256 penalty = MathUtils.percOf(del.bondedAmount, _slashAmount);
        if (poolNodes[_transcoder].inPool) {
            _resignTranscoder(_transcoder, _roundsManager().currentRound());
        }
        del.bondedAmount -= penalty;
        if (delegatorStatus(_transcoder) == DelegatorStatus.Bonded) {
            delegators[del.delegateAddress].delegatedAmount -= penalty;
        }
        uint256 finderAmount = 0;
        if (_finder != address(0)) {
            finderAmount = MathUtils.percOf(penalty, _finderFee);
            _minter().trustedTransferTokens(_finder, finderAmount);
        }
        _minter().trustedBurnTokens(penalty - finderAmount);
        emit TranscoderSlashed(_transcoder, _finder, penalty, finderAmount);
        _checkpoint(_transcoder);
    }

    // ------------------------------------------------------------------ views

    function pendingStake(address _delegator, uint256) public view returns (uint256) {
        (uint256 stake, ) = _pendingStakeAndFees(_delegator, _roundsManager().currentRound());
        return stake;
    }

    function pendingFees(address _delegator, uint256) public view returns (uint256) {
        (, uint256 fees) = _pendingStakeAndFees(_delegator, _roundsManager().currentRound());
        return fees;
    }

    function getDelegator(address _delegator)
        external
        view
        returns (
            uint256 bondedAmount,
            uint256 fees,
            address delegateAddress,
            uint256 delegatedAmount,
            uint256 startRound,
            uint256 lastClaimRound,
            uint256 nextUnbondingLockId
        )
    {
        Delegator storage d = delegators[_delegator];
        return (
            d.bondedAmount,
            d.fees,
            d.delegateAddress,
            d.delegatedAmount,
            d.startRound,
            d.lastClaimRound,
            d.nextUnbondingLockId
        );
    }

    function getDelegatorUnbondingLock(address _delegator, uint256 _unbondingLockId)
        external
        view
        returns (uint256 amount, uint256 withdrawRound)
    {
        UnbondingLock storage lock = delegators[_delegator].unbondingLocks[_unbondingLockId];
        return (lock.amount, lock.withdrawRound);
    }

    function isValidUnbondingLock(address _delegator, uint256 _unbondingLockId) public view returns (bool) {
        return delegators[_delegator].unbondingLocks[_unbondingLockId].withdrawRound > 0;
    }

    function getTranscoder(address _transcoder)
        external
        view
        returns (
            uint256 lastRewardRound,
            uint256 rewardCut,
            uint256 feeShare,
            uint256 lastActiveStakeUpdateRound,
            uint256 activationRound,
            uint256 deactivationRound,
            uint256 activeCumulativeRewards,
            uint256 cumulativeRewards,
            uint256 cumulativeFees,
            uint256 lastFeeRound
        )
    {
        Transcoder storage t = transcoders[_transcoder];
        return (
            t.lastRewardRound,
            t.rewardCut,
            t.feeShare,
            t.lastActiveStakeUpdateRound,
            t.activationRound,
            t.deactivationRound,
            t.activeCumulativeRewards,
            t.cumulativeRewards,
            t.cumulativeFees,
            t.lastFeeRound
        );
    }

    function getTranscoderEarningsPoolForRound(address _transcoder, uint256 _round)
        external
        view
        returns (
            uint256 totalStake,
            uint256 transcoderRewardCut,
            uint256 transcoderFeeShare,
            uint256 cumulativeRewardFactor,
            uint256 cumulativeFeeFactor
        )
    {
        EarningsPool storage p = transcoders[_transcoder].earningsPoolPerRound[_round];
        return (
            p.totalStake,
            p.transcoderRewardCut,
            p.transcoderFeeShare,
            p.cumulativeRewardFactor,
            p.cumulativeFeeFactor
        );
    }

    function getTranscoderPoolSize() public view returns (uint256) {
        return poolSize;
    }

    function getTranscoderPoolMaxSize() public view returns (uint256) {
        return poolMaxSize;
    }

    function getFirstTranscoderInPool() public view returns (address) {
        return poolHead;
    }

    function getNextTranscoderInPool(address _transcoder) public view returns (address) {
        return poolNodes[_transcoder].next;
    }

    function transcoderTotalStake(address _transcoder) public view returns (uint256) {
        return delegators[_transcoder].delegatedAmount;
    }

    function isActiveTranscoder(address _transcoder) public view returns (bool) {
        Transcoder storage t = transcoders[_transcoder];
        uint256 round = _roundsManager().currentRound();
        return t.activationRound <= round && round < t.deactivationRound;
    }

    function isRegisteredTranscoder(address _transcoder) public view returns (bool) {
        Delegator storage d = delegators[_transcoder];
        return d.delegateAddress == _transcoder && d.bondedAmount > 0;
    }

    function transcoderStatus(address _transcoder) public view returns (TranscoderStatus) {
        return isRegisteredTranscoder(_transcoder) ? TranscoderStatus.Registered : TranscoderStatus.NotRegistered;
    }

    function delegatorStatus(address _delegator) public view returns (DelegatorStatus) {
        Delegator storage d = delegators[_delegator];
        if (d.bondedAmount == 0) {
            return DelegatorStatus.Unbonded;
        } else if (d.startRound > _roundsManager().currentRound()) {
            return DelegatorStatus.Pending;
        }
        return DelegatorStatus.Bonded;
    }

    /// Total stake of the active set in the current round (what inflation and rewards are based on).
    function getTotalBonded() public view returns (uint256) {
        return currentRoundTotalActiveStake;
    }

    // ------------------------------------------------------------------ internals: bonding

    function _checkThirdPartyBond(address _owner, address _to, uint256 _round) internal view {
        Delegator storage del = delegators[_owner];
        if (delegatorStatus(_owner) == DelegatorStatus.Unbonded) {
            require(_to != _owner, "INVALID_DELEGATE");
        } else {
            require(del.delegateAddress == _to, "INVALID_DELEGATE_CHANGE");
        }
        // A claim before the delegate's reward call would forfeit this round's rewards.
        address delegate = del.delegateAddress;
        if (delegate != address(0) && del.lastClaimRound < _round) {
            require(
                !isActiveTranscoder(delegate) || transcoders[delegate].lastRewardRound == _round,
                "ILLEGAL_CLAIM_EARNINGS"
            );
        }
    }

    function _bond(uint256 _amount, address _owner, address _to, uint256 _round) internal {
        Delegator storage del = delegators[_owner];
        address oldDelegate = del.delegateAddress;
        uint256 bonded = del.bondedAmount;
        uint256 delegationAmount = _amount;

        if (delegatorStatus(_owner) == DelegatorStatus.Unbonded) {
            del.startRound = _round + 1;
        } else if (bonded > 0 && oldDelegate != _to) {
            require(!isRegisteredTranscoder(_owner), "registered transcoders can't delegate towards other addresses");
            del.startRound = _round + 1;
            delegationAmount += bonded;
            _decreaseTotalStake(oldDelegate, bonded, _round);
        }
        _initPoolFactors(transcoders[_to], _round);
        require(delegationAmount > 0, "delegation amount must be greater than 0");

        del.delegateAddress = _to;
        del.bondedAmount = bonded + _amount;
        _increaseTotalStake(_to, delegationAmount, _round);

        if (_amount > 0) {
            require(
                _token().transferFrom(msg.sender, _resolve("Minter"), _amount),
                "token transfer failed"
            );
        }
        emit Bond(_to, oldDelegate, _owner, _amount, del.bondedAmount);
    }

    function _unbond(address _delegator, uint256 _amount, uint256 _round) internal {
        require(delegatorStatus(_delegator) == DelegatorStatus.Bonded, "caller must be bonded");
        Delegator storage del = delegators[_delegator];
        require(_amount > 0, "unbond amount must be greater than 0");
        require(_amount <= del.bondedAmount, "amount is greater than bonded amount");

        address delegate = del.delegateAddress;
        uint256 withdrawRound = _round + unbondingPeriod;
        uint256 lockId = del.nextUnbondingLockId;
        del.unbondingLocks[lockId] = UnbondingLock({amount: _amount, withdrawRound: withdrawRound});
        del.nextUnbondingLockId = lockId + 1;
        del.bondedAmount -= _amount;

        if (del.bondedAmount == 0) {
            del.delegateAddress = address(0);
            del.startRound = 0;
            if (poolNodes[_delegator].inPool) {
                _resignTranscoder(_delegator, _round);
            }
        }
        _decreaseTotalStake(delegate, _amount, _round);
        emit Unbond(delegate, _delegator, lockId, _amount, withdrawRound);
    }

    function _processRebond(address _delegator, uint256 _lockId, uint256 _round) internal {
        require(isValidUnbondingLock(_delegator, _lockId), "invalid unbonding lock ID");
        Delegator storage del = delegators[_delegator];
        uint256 amount = del.unbondingLocks[_lockId].amount;
        del.bondedAmount += amount;
        delete del.unbondingLocks[_lockId];
        address delegate = del.delegateAddress;
        _initPoolFactors(transcoders[delegate], _round);
        _increaseTotalStake(delegate, amount, _round);
        emit Rebond(delegate, _delegator, _lockId, amount);
    }

    function _increaseTotalStake(address _delegate, uint256 _amount, uint256 _round) internal {
        Delegator storage d = delegators[_delegate];
        if (isRegisteredTranscoder(_delegate)) {
            uint256 currStake = d.delegatedAmount;
            uint256 newStake = currStake + _amount;
            if (poolNodes[_delegate].inPool) {
                _poolUpdateKey(_delegate, newStake);
                nextRoundTotalActiveStake += _amount;
                _recordNextRoundStake(transcoders[_delegate], currStake, newStake, _round);
            } else {
                _tryToJoinActiveSet(_delegate, newStake, _round + 1);
            }
        }
        d.delegatedAmount += _amount;
        _checkpoint(_delegate);
    }

    function _decreaseTotalStake(address _delegate, uint256 _amount, uint256 _round) internal {
        Delegator storage d = delegators[_delegate];
        if (poolNodes[_delegate].inPool) {
            uint256 currStake = d.delegatedAmount;
            uint256 newStake = currStake - _amount;
            _poolUpdateKey(_delegate, newStake);
            nextRoundTotalActiveStake -= _amount;
            _recordNextRoundStake(transcoders[_delegate], currStake, newStake, _round);
        }
        d.delegatedAmount -= _amount;
        _checkpoint(_delegate);
    }

    /// Stake changes of an active transcoder count from the next round; this round keeps its stake.
    function _recordNextRoundStake(Transcoder storage t, uint256 _currStake, uint256 _newStake, uint256 _round)
        internal
    {
        if (t.lastActiveStakeUpdateRound < _round) {
            t.earningsPoolPerRound[_round].totalStake = _currStake;
        }
        t.earningsPoolPerRound[_round + 1].totalStake = _newStake;
        t.lastActiveStakeUpdateRound = _round + 1;
    }

    function _tryToJoinActiveSet(address _transcoder, uint256 _stake, uint256 _activationRound) internal {
        uint256 pendingTotal = nextRoundTotalActiveStake;
        if (poolSize >= poolMaxSize) {
            address last = poolTail;
            if (last == address(0)) return; // pool size 0: nobody can be active
            uint256 lastStake = delegators[last].delegatedAmount;
            if (_stake <= lastStake) return;
            _poolRemove(last);
            transcoders[last].deactivationRound = _activationRound;
            pendingTotal -= lastStake;
            emit TranscoderDeactivated(last, _activationRound);
        }
        _poolInsert(_transcoder, _stake);
        pendingTotal += _stake;
        Transcoder storage t = transcoders[_transcoder];
        t.lastActiveStakeUpdateRound = _activationRound;
        t.activationRound = _activationRound;
        t.deactivationRound = MAX_FUTURE_ROUND;
        t.earningsPoolPerRound[_activationRound].totalStake = _stake;
        nextRoundTotalActiveStake = pendingTotal;
        emit TranscoderActivated(_transcoder, _activationRound);
    }

    function _resignTranscoder(address _transcoder, uint256 _round) internal {
        _poolRemove(_transcoder);
        nextRoundTotalActiveStake -= delegators[_transcoder].delegatedAmount;
        transcoders[_transcoder].deactivationRound = _round + 1;
        emit TranscoderDeactivated(_transcoder, _round + 1);
    }

    // ------------------------------------------------------------------ internals: earnings

    function _reward(address _transcoder) internal {
        uint256 round = _roundsManager().currentRound();
        require(isActiveTranscoder(_transcoder), "caller must be an active transcoder");
        Transcoder storage t = transcoders[_transcoder];
        require(t.lastRewardRound != round, "caller has already called reward for the current round");

        EarningsPool storage pool = t.earningsPoolPerRound[round];
        pool.transcoderRewardCut = t.rewardCut;
        pool.transcoderFeeShare = t.feeShare;
        uint256 lastUpdate = t.lastActiveStakeUpdateRound;
        if (lastUpdate < round) {
            pool.totalStake = t.earningsPoolPerRound[lastUpdate].totalStake;
        }
        _applyTreasuryCeiling();

        IMinter minter = _minter();
        uint256 minted = minter.createReward(pool.totalStake, currentRoundTotalActiveStake);
        uint256 toTreasury = PreciseMathUtils.percOf(minted, treasuryRewardCutRate);
        if (toTreasury > 0) {
            address treasury = _resolve("Treasury");
            minter.trustedTransferTokens(treasury, toTreasury);
            emit TreasuryReward(_transcoder, treasury, toTreasury);
        }
        uint256 rewards = minted - toTreasury;
        _updateTranscoderWithRewards(_transcoder, rewards, round);
        t.lastRewardRound = round;
        _checkpoint(_transcoder);
        emit Reward(_transcoder, rewards);
    }

    function _applyTreasuryCeiling() internal {
        if (treasuryBalanceCeiling == 0 || nextRoundTreasuryRewardCutRate == 0) return;
        if (_token().balanceOf(_resolve("Treasury")) >= treasuryBalanceCeiling) {
            _setTreasuryRewardCutRate(0);
        }
    }

    function _updateTranscoderWithRewards(address _transcoder, uint256 _rewards, uint256 _round) internal {
        Transcoder storage t = transcoders[_transcoder];
        EarningsPool storage pool = t.earningsPoolPerRound[_round];
        (uint256 prevCrf, ) = _latestFactors(t, _round - 1);
        if (prevCrf == 0) prevCrf = FACTOR_ONE;

        t.activeCumulativeRewards = t.cumulativeRewards;
        uint256 commission = MathUtils.percOf(_rewards, pool.transcoderRewardCut);
        uint256 delegatorsRewards = _rewards - commission;
        uint256 ownStakeRewards = PreciseMathUtils.percOf(
            delegatorsRewards,
            t.activeCumulativeRewards,
            pool.totalStake
        );
        t.cumulativeRewards += ownStakeRewards + commission;
        pool.cumulativeRewardFactor = prevCrf + PreciseMathUtils.percOf(prevCrf, delegatorsRewards, pool.totalStake);
        _increaseTotalStake(_transcoder, _rewards, _round);
    }

    /// Reward factor of the round before `pool`'s round when the transcoder skipped reward() then but
    /// called it now: reconstructed from this round's reward (the protocol's retroactive path).
    function _retroactivePrevRewardFactor(EarningsPool storage pool) internal view returns (uint256) {
        IMinter minter = _minter();
        uint256 totalStake = pool.totalStake;
        uint256 rewards = PreciseMathUtils.percOf(
            minter.currentMintableTokens() + minter.currentMintedTokens(),
            totalStake,
            currentRoundTotalActiveStake
        );
        uint256 commission = MathUtils.percOf(rewards, pool.transcoderRewardCut);
        uint256 delegatorsRewards = rewards - commission;
        return PreciseMathUtils.percOf(pool.cumulativeRewardFactor, totalStake, delegatorsRewards + totalStake);
    }

    function _autoClaimEarnings(address _delegator, uint256 _round) internal {
        if (delegators[_delegator].lastClaimRound < _round) {
            _claimEarnings(_delegator, _round);
        }
    }

    function _claimEarnings(address _delegator, uint256 _endRound) internal {
        Delegator storage del = delegators[_delegator];
        address delegate = del.delegateAddress;
        uint256 newStake = del.bondedAmount;
        uint256 newFees = del.fees;
        if (delegate != address(0)) {
            (newStake, newFees) = _pendingStakeAndFees(_delegator, _endRound);
            Transcoder storage t = transcoders[delegate];
            // Freeze the end factors so they serve as the start factors of the next claim.
            _initPoolFactors(t, _endRound);
            if (delegate == _delegator) {
                t.cumulativeFees = 0;
                t.cumulativeRewards = 0;
            }
        }
        emit EarningsClaimed(
            delegate,
            _delegator,
            newStake - del.bondedAmount,
            newFees - del.fees,
            del.lastClaimRound + 1,
            _endRound
        );
        del.lastClaimRound = _endRound;
        del.bondedAmount = newStake;
        del.fees = newFees;
    }

    /// If `_round`'s pool has no factors yet, copy the latest ones (from the last reward / fee round).
    function _initPoolFactors(Transcoder storage t, uint256 _round) internal {
        EarningsPool storage pool = t.earningsPoolPerRound[_round];
        if (pool.cumulativeRewardFactor == 0) {
            uint256 lastRewardRound = t.lastRewardRound;
            if (lastRewardRound < _round) {
                pool.cumulativeRewardFactor = t.earningsPoolPerRound[lastRewardRound].cumulativeRewardFactor;
            }
        }
        if (pool.cumulativeFeeFactor == 0) {
            uint256 lastFeeRound = t.lastFeeRound;
            if (lastFeeRound < _round) {
                pool.cumulativeFeeFactor = t.earningsPoolPerRound[lastFeeRound].cumulativeFeeFactor;
            }
        }
    }

    /// The factors in force at `_round`: the round's own, else those of the last reward / fee round.
    function _latestFactors(Transcoder storage t, uint256 _round) internal view returns (uint256 crf, uint256 cff) {
        EarningsPool storage pool = t.earningsPoolPerRound[_round];
        crf = pool.cumulativeRewardFactor;
        cff = pool.cumulativeFeeFactor;
        uint256 lastRewardRound = t.lastRewardRound;
        if (crf == 0 && lastRewardRound < _round) {
            crf = t.earningsPoolPerRound[lastRewardRound].cumulativeRewardFactor;
        }
        uint256 lastFeeRound = t.lastFeeRound;
        if (cff == 0 && lastFeeRound < _round) {
            cff = t.earningsPoolPerRound[lastFeeRound].cumulativeFeeFactor;
        }
    }

    function _pendingStakeAndFees(address _delegator, uint256 _endRound)
        internal
        view
        returns (uint256 stake, uint256 fees)
    {
        Delegator storage del = delegators[_delegator];
        Transcoder storage t = transcoders[del.delegateAddress];
        stake = del.bondedAmount;
        fees = del.fees;
        uint256 lastClaimRound = del.lastClaimRound;
        if (lastClaimRound < _endRound) {
            EarningsPool storage startPool = t.earningsPoolPerRound[lastClaimRound];
            uint256 startCrf = startPool.cumulativeRewardFactor;
            if (startCrf == 0) startCrf = FACTOR_ONE;
            (uint256 endCrf, uint256 endCff) = _latestFactors(t, _endRound);
            if (endCrf == 0) endCrf = FACTOR_ONE;
            fees += PreciseMathUtils.percOf(stake, endCff - startPool.cumulativeFeeFactor, startCrf);
            stake = PreciseMathUtils.percOf(stake, endCrf, startCrf);
        }
        if (del.delegateAddress == _delegator) {
            stake += t.cumulativeRewards;
            fees += t.cumulativeFees;
        }
    }

    function _setTreasuryRewardCutRate(uint256 _cutRate) internal {
        require(PreciseMathUtils.validPerc(_cutRate), "_cutRate is invalid precise percentage");
        nextRoundTreasuryRewardCutRate = _cutRate;
        emit ParameterUpdate("nextRoundTreasuryRewardCutRate");
    }

    function _checkpoint(address _account) internal {
        Delegator storage d = delegators[_account];
        _bondingVotes().checkpointBondingState(
            _account,
            _roundsManager().currentRound() + 1,
            d.bondedAmount,
            d.delegateAddress,
            d.delegatedAmount,
            d.lastClaimRound,
            transcoders[_account].lastRewardRound
        );
    }

    // ------------------------------------------------------------------ internals: sorted pool

    function _poolInsert(address _id, uint256 _key) internal {
        address prev = address(0);
        address next = poolHead;
        if (next != address(0) && poolNodes[next].key >= _key) {
            prev = next;
            next = poolNodes[prev].next;
            while (next != address(0) && poolNodes[next].key > _key) {
                prev = next;
                next = poolNodes[next].next;
            }
        }
        poolNodes[_id] = PoolNode({key: _key, prev: prev, next: next, inPool: true});
        if (prev == address(0)) poolHead = _id;
        else poolNodes[prev].next = _id;
        if (next == address(0)) poolTail = _id;
        else poolNodes[next].prev = _id;
        poolSize += 1;
    }

    function _poolRemove(address _id) internal {
        PoolNode storage node = poolNodes[_id];
        address prev = node.prev;
        address next = node.next;
        if (prev == address(0)) poolHead = next;
        else poolNodes[prev].next = next;
        if (next == address(0)) poolTail = prev;
        else poolNodes[next].prev = prev;
        delete poolNodes[_id];
        poolSize -= 1;
    }

    function _poolUpdateKey(address _id, uint256 _key) internal {
        _poolRemove(_id);
        _poolInsert(_id, _key);
    }

    // ------------------------------------------------------------------ internals: registry

    function _roundsManager() internal view returns (IRoundsManager) {
        return IRoundsManager(_resolve("RoundsManager"));
    }

    function _minter() internal view returns (IMinter) {
        return IMinter(_resolve("Minter"));
    }

    function _token() internal view returns (ILivepeerToken) {
        return ILivepeerToken(_resolve("LivepeerToken"));
    }

    function _bondingVotes() internal view returns (IBondingVotes) {
        return IBondingVotes(_resolve("BondingVotes"));
    }
}
