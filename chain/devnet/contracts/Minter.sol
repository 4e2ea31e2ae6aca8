// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import "./Manager.sol";
import "./interfaces/IProtocol.sol";
import "./lib/PreciseMath.sol";

interface IBondingManagerTotalBonded {
    function getTotalBonded() external view returns (uint256);
}

/// Mints the per-round inflation and holds all bonded LPT and all fee ETH (protocol.md §2.3, §3.2).
/// Percentages here use MathUtilsV2 (1e9 = 100 %). There is no L1 on the devnet, so the global supply
/// is the token's total supply.
contract Minter is Manager {
    uint256 public inflation; // per round, 1e9 = 100 %
    uint256 public inflationChange; // added to / removed from `inflation` each round
    uint256 public targetBondingRate; // 1e9 = 100 %
    uint256 public currentMintableTokens;
    uint256 public currentMintedTokens;

    event SetCurrentRewardTokens(uint256 currentMintableTokens, uint256 currentInflation);

    modifier onlyBondingManager() {
        require(msg.sender == _resolve("BondingManager"), "msg.sender not BondingManager");
        _;
    }

    modifier onlyRoundsManager() {
        require(msg.sender == _resolve("RoundsManager"), "msg.sender not RoundsManager");
        _;
    }

    modifier onlyBondingManagerOrJobsManager() {
        require(
            msg.sender == _resolve("BondingManager") || msg.sender == _resolve("JobsManager"),
            "msg.sender not BondingManager or JobsManager"
        );
        _;
    }

    modifier onlyMinterOrJobsManager() {
        require(
            msg.sender == _resolve("Minter") || msg.sender == _resolve("JobsManager"),
            "msg.sender not Minter or JobsManager"
        );
        _;
    }

    constructor(address _controller, uint256 _inflation, uint256 _inflationChange, uint256 _targetBondingRate)
        Manager(_controller)
    {
        require(MathUtilsV2.validPerc(_inflation), "_inflation is invalid percentage");
        require(MathUtilsV2.validPerc(_inflationChange), "_inflationChange is invalid percentage");
        require(MathUtilsV2.validPerc(_targetBondingRate), "_targetBondingRate is invalid percentage");
        inflation = _inflation;
        inflationChange = _inflationChange;
        targetBondingRate = _targetBondingRate;
    }

    // --- owner parameters ---

    function setTargetBondingRate(uint256 _targetBondingRate) external onlyControllerOwner {
        require(MathUtilsV2.validPerc(_targetBondingRate), "_targetBondingRate is invalid percentage");
        targetBondingRate = _targetBondingRate;
        emit ParameterUpdate("targetBondingRate");
    }

    function setInflationChange(uint256 _inflationChange) external onlyControllerOwner {
        require(MathUtilsV2.validPerc(_inflationChange), "_inflationChange is invalid percentage");
        inflationChange = _inflationChange;
        emit ParameterUpdate("inflationChange");
    }

    // --- protocol hooks ---

    /// Mint the share `_fracNum / _fracDenom` of this round's mintable tokens (BondingManager.reward).
    function createReward(uint256 _fracNum, uint256 _fracDenom)
        external
        onlyBondingManager
        whenSystemNotPaused
        returns (uint256)
    {
        uint256 mintAmount = MathUtilsV2.percOf(currentMintableTokens, _fracNum, _fracDenom);
        currentMintedTokens += mintAmount;
        require(currentMintedTokens <= currentMintableTokens, "minted tokens cannot exceed mintable tokens");
        ILivepeerToken(_resolve("LivepeerToken")).mint(address(this), mintAmount);
        return mintAmount;
    }

    function trustedTransferTokens(address _to, uint256 _amount) external onlyBondingManager whenSystemNotPaused {
        require(ILivepeerToken(_resolve("LivepeerToken")).transfer(_to, _amount), "token transfer failed");
    }

    function trustedBurnTokens(uint256 _amount) external onlyBondingManager whenSystemNotPaused {
        ILivepeerToken(_resolve("LivepeerToken")).burn(_amount);
    }

    function trustedWithdrawETH(address payable _to, uint256 _amount)
        external
        onlyBondingManagerOrJobsManager
        whenSystemNotPaused
    {
        // As on mainnet: `transfer` forwards a 2,300 gas stipend, so a recipient contract with a costly
        // receive() fails here just as it would on Arbitrum One.
        _to.transfer(_amount);
    }

    /// Accept fee ETH (TicketBroker forwards every deposit and reserve here).
    function depositETH() external payable onlyMinterOrJobsManager returns (bool) {
        return true;
    }

    /// Adjust inflation towards the target bonding rate and set this round's mintable tokens.
    function setCurrentRewardTokens() external onlyRoundsManager whenSystemNotPaused {
        _setInflation();
        currentMintableTokens = MathUtilsV2.percOf(getGlobalTotalSupply(), inflation);
        currentMintedTokens = 0;
        emit SetCurrentRewardTokens(currentMintableTokens, inflation);
    }

    // --- views ---

    function getGlobalTotalSupply() public view returns (uint256) {
        return ILivepeerToken(_resolve("LivepeerToken")).totalSupply();
    }

    function _setInflation() internal {
        uint256 supply = getGlobalTotalSupply();
        uint256 bondingRate = 0;
        if (supply > 0) {
            uint256 totalBonded = IBondingManagerTotalBonded(_resolve("BondingManager")).getTotalBonded();
            bondingRate = MathUtilsV2.percPoints(totalBonded, supply);
        }
        if (bondingRate < targetBondingRate) {
            inflation += inflationChange;
        } else if (bondingRate > targetBondingRate) {
            inflation = inflationChange > inflation ? 0 : inflation - inflationChange;
        }
    }
}
