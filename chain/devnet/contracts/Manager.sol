// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import "./interfaces/IController.sol";

/// Base of every protocol contract: knows its Controller, resolves the others from it by
/// keccak256(name) on every use (as the deployed protocol does), and honours the global pause.
abstract contract Manager {
    IController public controller;

    event SetController(address controller);
    event ParameterUpdate(string param);

    modifier onlyController() {
        require(msg.sender == address(controller), "caller must be Controller");
        _;
    }

    modifier onlyControllerOwner() {
        require(msg.sender == controller.owner(), "caller must be Controller owner");
        _;
    }

    modifier whenSystemNotPaused() {
        require(!controller.paused(), "system is paused");
        _;
    }

    modifier whenSystemPaused() {
        require(controller.paused(), "system is not paused");
        _;
    }

    constructor(address _controller) {
        controller = IController(_controller);
    }

    function setController(address _controller) external onlyController {
        controller = IController(_controller);
        emit SetController(_controller);
    }

    function getController() external view returns (address) {
        return address(controller);
    }

    function _resolve(string memory _name) internal view returns (address) {
        return controller.getContract(keccak256(bytes(_name)));
    }
}
