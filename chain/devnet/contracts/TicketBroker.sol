// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

import "./Manager.sol";
import "./interfaces/IProtocol.sol";

/// Probabilistic micropayments (protocol.md §2.5, §3.4, §3.7). A sender (gateway) keeps a deposit and
/// a reserve here; the ETH itself lives in the Minter. A recipient (orchestrator) redeems a winning
/// ticket, which moves the face value from the deposit (then from its share of the reserve) into the
/// orchestrator's fee pool in the BondingManager. Same ABI as the Arbitrum One TicketBroker.
contract TicketBroker is Manager {
    struct Ticket {
        address recipient;
        address sender;
        uint256 faceValue;
        uint256 winProb;
        uint256 senderNonce;
        bytes32 recipientRandHash;
        bytes auxData;
    }

    struct Sender {
        uint256 deposit;
        uint256 withdrawRound;
    }

    struct ReserveInfo {
        uint256 fundsRemaining;
        uint256 claimedInCurrentRound;
    }

    struct Reserve {
        uint256 funds;
        mapping(uint256 => uint256) claimedForRound; // round => claimed by all recipients
        mapping(uint256 => mapping(address => uint256)) claimedByAddress; // round => recipient => claimed
    }

    uint256 public unlockPeriod; // rounds
    uint256 public ticketValidityPeriod; // rounds

    mapping(bytes32 => bool) public usedTickets;
    mapping(address => Sender) internal senders;
    mapping(address => Reserve) internal reserves;

    event DepositFunded(address indexed sender, uint256 amount);
    event ReserveFunded(address indexed reserveHolder, uint256 amount);
    event ReserveClaimed(address indexed reserveHolder, address claimant, uint256 amount);
    event WinningTicketRedeemed(
        address indexed sender,
        address indexed recipient,
        uint256 faceValue,
        uint256 winProb,
        uint256 senderNonce,
        uint256 recipientRand,
        bytes auxData
    );
    event WinningTicketTransfer(address indexed sender, address indexed recipient, uint256 amount);
    event Unlock(address indexed sender, uint256 startRound, uint256 endRound);
    event UnlockCancelled(address indexed sender);
    event Withdrawal(address indexed sender, uint256 deposit, uint256 reserve);

    constructor(address _controller) Manager(_controller) {}

    // ---------------------------------------------------------------- parameters (Controller owner)

    function setUnlockPeriod(uint256 _unlockPeriod) external onlyControllerOwner {
        unlockPeriod = _unlockPeriod;
        emit ParameterUpdate("unlockPeriod");
    }

    function setTicketValidityPeriod(uint256 _ticketValidityPeriod) external onlyControllerOwner {
        require(_ticketValidityPeriod > 0, "ticketValidityPeriod must be greater than 0");
        ticketValidityPeriod = _ticketValidityPeriod;
        emit ParameterUpdate("ticketValidityPeriod");
    }

    // ---------------------------------------------------------------- funding

    function fundDeposit() external payable whenSystemNotPaused {
        _fundDeposit(msg.sender, msg.value);
        _forwardToMinter(msg.value);
    }

    function fundReserve() external payable whenSystemNotPaused {
        _fundReserve(msg.sender, msg.value);
        _forwardToMinter(msg.value);
    }

    function fundDepositAndReserve(uint256 _depositAmount, uint256 _reserveAmount) external payable {
        fundDepositAndReserveFor(msg.sender, _depositAmount, _reserveAmount);
    }

    function fundDepositAndReserveFor(address _addr, uint256 _depositAmount, uint256 _reserveAmount)
        public
        payable
        whenSystemNotPaused
    {
        require(
            msg.value == _depositAmount + _reserveAmount,
            "msg.value does not equal sum of deposit amount and reserve amount"
        );
        _fundDeposit(_addr, _depositAmount);
        _fundReserve(_addr, _reserveAmount);
        _forwardToMinter(msg.value);
    }

    function _fundDeposit(address _addr, uint256 _amount) internal {
        senders[_addr].deposit += _amount;
        _cancelUnlockIfFundedBySender(_addr);
        emit DepositFunded(_addr, _amount);
    }

    function _fundReserve(address _addr, uint256 _amount) internal {
        reserves[_addr].funds += _amount;
        _cancelUnlockIfFundedBySender(_addr);
        emit ReserveFunded(_addr, _amount);
    }

    /// A sender topping up its own funds shows it wants to keep paying: any pending unlock ends.
    function _cancelUnlockIfFundedBySender(address _addr) internal {
        if (_addr == msg.sender && senders[_addr].withdrawRound > 0) {
            senders[_addr].withdrawRound = 0;
            emit UnlockCancelled(_addr);
        }
    }

    function _forwardToMinter(uint256 _amount) internal {
        if (_amount > 0) {
            IMinter(_resolve("Minter")).depositETH{value: _amount}();
        }
    }

    // ---------------------------------------------------------------- unlock / withdraw

    function unlock() external whenSystemNotPaused {
        Sender storage sender = senders[msg.sender];
        require(sender.deposit > 0 || reserves[msg.sender].funds > 0, "sender deposit and reserve are zero");
        require(sender.withdrawRound == 0, "unlock already initiated");
        uint256 round = _currentRound();
        sender.withdrawRound = round + unlockPeriod;
        emit Unlock(msg.sender, round, sender.withdrawRound);
    }

    function cancelUnlock() external whenSystemNotPaused {
        Sender storage sender = senders[msg.sender];
        require(sender.withdrawRound > 0, "no unlock request in progress");
        sender.withdrawRound = 0;
        emit UnlockCancelled(msg.sender);
    }

    function withdraw() external whenSystemNotPaused {
        Sender storage sender = senders[msg.sender];
        uint256 deposit = sender.deposit;
        uint256 reserve = reserves[msg.sender].funds;
        require(deposit > 0 || reserve > 0, "sender deposit and reserve are zero");
        require(sender.withdrawRound > 0, "no unlock request in progress");
        require(_currentRound() >= sender.withdrawRound, "account is locked");

        sender.deposit = 0;
        sender.withdrawRound = 0;
        reserves[msg.sender].funds = 0;

        IMinter(_resolve("Minter")).trustedWithdrawETH(payable(msg.sender), deposit + reserve);
        emit Withdrawal(msg.sender, deposit, reserve);
    }

    // ---------------------------------------------------------------- redemption

    function redeemWinningTicket(Ticket memory _ticket, bytes memory _sig, uint256 _recipientRand)
        public
        whenSystemNotPaused
    {
        IRoundsManager rounds = IRoundsManager(_resolve("RoundsManager"));
        require(rounds.currentRoundInitialized(), "current round is not initialized");
        uint256 round = rounds.currentRound();

        bytes32 ticketHash = getTicketHash(_ticket);
        _requireValidWinningTicket(_ticket, ticketHash, _sig, _recipientRand, rounds, round);

        IBondingManager bonding = IBondingManager(_resolve("BondingManager"));
        require(bonding.isRegisteredTranscoder(_ticket.recipient), "transcoder must be registered");

        Sender storage sender = senders[_ticket.sender];
        require(sender.withdrawRound == 0 || round < sender.withdrawRound, "sender is unlocked");
        require(sender.deposit > 0 || reserves[_ticket.sender].funds > 0, "sender deposit and reserve are zero");

        usedTickets[ticketHash] = true;

        uint256 amount;
        if (_ticket.faceValue > sender.deposit) {
            uint256 fromReserve = _claimFromReserve(_ticket.sender, _ticket.recipient, _ticket.faceValue - sender.deposit);
            amount = sender.deposit + fromReserve;
            sender.deposit = 0;
        } else {
            amount = _ticket.faceValue;
            sender.deposit -= _ticket.faceValue;
        }

        if (amount > 0) {
            // The ETH already sits in the Minter; the BondingManager books it as fees of the current round.
            bonding.updateTranscoderWithFees(_ticket.recipient, amount, round);
            emit WinningTicketTransfer(_ticket.sender, _ticket.recipient, amount);
        }

        emit WinningTicketRedeemed(
            _ticket.sender,
            _ticket.recipient,
            _ticket.faceValue,
            _ticket.winProb,
            _ticket.senderNonce,
            _recipientRand,
            _ticket.auxData
        );
    }

    /// Redeem several tickets; a ticket that fails is skipped and does not undo the others.
    function batchRedeemWinningTickets(Ticket[] memory _tickets, bytes[] memory _sigs, uint256[] memory _recipientRands)
        external
        whenSystemNotPaused
    {
        for (uint256 i = 0; i < _tickets.length; i++) {
            try this.redeemWinningTicket(_tickets[i], _sigs[i], _recipientRands[i]) {} catch {}
        }
    }

    function _requireValidWinningTicket(
        Ticket memory _ticket,
        bytes32 _ticketHash,
        bytes memory _sig,
        uint256 _recipientRand,
        IRoundsManager _rounds,
        uint256 _round
    ) internal view {
        require(_ticket.recipient != address(0), "ticket recipient is null address");
        require(_ticket.sender != address(0), "ticket sender is null address");

        require(_ticket.auxData.length == 64, "invalid length for ticket auxData: must be 64 bytes");
        (uint256 creationRound, bytes32 creationRoundBlockHash) = abi.decode(_ticket.auxData, (uint256, bytes32));
        bytes32 blockHash = _rounds.blockHashForRound(creationRound);
        require(blockHash != bytes32(0), "ticket creationRound does not have a block hash");
        require(creationRoundBlockHash == blockHash, "ticket creationRoundBlockHash invalid for creationRound");
        require(creationRound + ticketValidityPeriod > _round, "ticket is expired");

        require(keccak256(abi.encodePacked(_recipientRand)) == _ticket.recipientRandHash, "recipientRand does not match recipientRandHash");
        require(!usedTickets[_ticketHash], "ticket is used");
        require(_isValidTicketSig(_ticket.sender, _sig, _ticketHash), "invalid signature over ticket hash");
        require(
            uint256(keccak256(abi.encodePacked(_sig, _recipientRand))) < _ticket.winProb,
            "ticket did not win"
        );
    }

    function _isValidTicketSig(address _sender, bytes memory _sig, bytes32 _ticketHash) internal pure returns (bool) {
        (address signer, ECDSA.RecoverError err) = ECDSA.tryRecover(ECDSA.toEthSignedMessageHash(_ticketHash), _sig);
        return err == ECDSA.RecoverError.NoError && signer == _sender;
    }

    // ---------------------------------------------------------------- reserve

    /// Take up to `_amount` from the holder's reserve for `_claimant`, limited to its share this round.
    function _claimFromReserve(address _holder, address _claimant, uint256 _amount) internal returns (uint256) {
        uint256 claimable = claimableReserve(_holder, _claimant);
        uint256 claimed = _amount < claimable ? _amount : claimable;
        if (claimed == 0) {
            return 0;
        }
        uint256 round = _currentRound();
        Reserve storage reserve = reserves[_holder];
        reserve.funds -= claimed;
        reserve.claimedForRound[round] += claimed;
        reserve.claimedByAddress[round][_claimant] += claimed;
        emit ReserveClaimed(_holder, _claimant, claimed);
        return claimed;
    }

    /// Each active orchestrator may take an equal share of the reserve as it stood at the start of the
    /// round's claims: (funds + claimed this round) / active pool size, less what it already took.
    function claimableReserve(address _reserveHolder, address _claimant) public view returns (uint256) {
        IBondingManager bonding = IBondingManager(_resolve("BondingManager"));
        if (!bonding.isActiveTranscoder(_claimant)) {
            return 0;
        }
        uint256 poolSize = bonding.getTranscoderPoolSize();
        if (poolSize == 0) {
            return 0;
        }
        uint256 round = _currentRound();
        Reserve storage reserve = reserves[_reserveHolder];
        uint256 share = (reserve.funds + reserve.claimedForRound[round]) / poolSize;
        uint256 taken = reserve.claimedByAddress[round][_claimant];
        return share > taken ? share - taken : 0;
    }

    function claimedReserve(address _reserveHolder, address _claimant) external view returns (uint256) {
        return reserves[_reserveHolder].claimedByAddress[_currentRound()][_claimant];
    }

    // ---------------------------------------------------------------- views

    function getSenderInfo(address _sender) external view returns (Sender memory sender, ReserveInfo memory reserve) {
        sender = senders[_sender];
        reserve = getReserveInfo(_sender);
    }

    function getReserveInfo(address _reserveHolder) public view returns (ReserveInfo memory info) {
        Reserve storage reserve = reserves[_reserveHolder];
        info.fundsRemaining = reserve.funds;
        info.claimedInCurrentRound = reserve.claimedForRound[_currentRound()];
    }

    function isUnlockInProgress(address _sender) external view returns (bool) {
        return senders[_sender].withdrawRound > 0;
    }

    function getTicketHash(Ticket memory _ticket) public pure returns (bytes32) {
        return keccak256(
            abi.encodePacked(
                _ticket.recipient,
                _ticket.sender,
                _ticket.faceValue,
                _ticket.winProb,
                _ticket.senderNonce,
                _ticket.recipientRandHash,
                _ticket.auxData
            )
        );
    }

    function _currentRound() internal view returns (uint256) {
        return IRoundsManager(_resolve("RoundsManager")).currentRound();
    }
}
