// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import "./Manager.sol";

/// Where each orchestrator says it can be reached (protocol.md §2.6). Keyed on the caller, with no
/// registration check, as on Arbitrum One. Deployed twice on the devnet: once registered in the
/// Controller as "ServiceRegistry", once unregistered as the AI service registry.
contract ServiceRegistry is Manager {
    struct Record {
        string serviceURI;
    }

    mapping(address => Record) private records;

    event ServiceURIUpdate(address indexed addr, string serviceURI);

    constructor(address _controller) Manager(_controller) {}

    function setServiceURI(string calldata _serviceURI) external whenSystemNotPaused {
        records[msg.sender].serviceURI = _serviceURI;
        emit ServiceURIUpdate(msg.sender, _serviceURI);
    }

    function getServiceURI(address _addr) external view returns (string memory) {
        return records[_addr].serviceURI;
    }
}
