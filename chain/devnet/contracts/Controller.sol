// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// Registry of protocol contracts keyed by keccak256(name), with a global pause. Same ABI as the
/// Arbitrum One Controller (protocol.md §1.3, §6.2).
contract Controller {
    struct ContractInfo {
        address contractAddress;
        bytes20 gitCommitHash;
    }

    address public owner;
    bool public paused;
    mapping(bytes32 => ContractInfo) private registry;

    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);
    event SetContractInfo(bytes32 id, address contractAddress, bytes20 gitCommitHash);
    event Pause();
    event Unpause();

    modifier onlyOwner() {
        require(msg.sender == owner, "caller must be owner");
        _;
    }

    constructor() {
        owner = msg.sender;
        emit OwnershipTransferred(address(0), msg.sender);
    }

    function transferOwnership(address newOwner) external onlyOwner {
        require(newOwner != address(0), "invalid new owner");
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }

    function setContractInfo(bytes32 _id, address _contractAddress, bytes20 _gitCommitHash) external onlyOwner {
        registry[_id] = ContractInfo(_contractAddress, _gitCommitHash);
        emit SetContractInfo(_id, _contractAddress, _gitCommitHash);
    }

    function updateController(bytes32 _id, address _controller) external onlyOwner {
        IControlled(registry[_id].contractAddress).setController(_controller);
    }

    function getContractInfo(bytes32 _id) external view returns (address, bytes20) {
        ContractInfo storage info = registry[_id];
        return (info.contractAddress, info.gitCommitHash);
    }

    function getContract(bytes32 _id) external view returns (address) {
        return registry[_id].contractAddress;
    }

    function pause() external onlyOwner {
        require(!paused, "already paused");
        paused = true;
        emit Pause();
    }

    function unpause() external onlyOwner {
        require(paused, "not paused");
        paused = false;
        emit Unpause();
    }
}

interface IControlled {
    function setController(address _controller) external;
}
