// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";
import "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import "@openzeppelin/contracts/access/AccessControl.sol";

/// The Livepeer Token as deployed on Arbitrum One (protocol.md §2.4): OpenZeppelin ERC20 with burn,
/// EIP-2612 permit and role-based minting. The Minter holds MINTER_ROLE and BURNER_ROLE; on the devnet
/// the deployer keeps MINTER_ROLE as well and acts as the faucet.
contract LivepeerToken is ERC20, ERC20Burnable, ERC20Permit, AccessControl {
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");
    bytes32 public constant BURNER_ROLE = keccak256("BURNER_ROLE");

    event Mint(address indexed to, uint256 amount);
    event Burn(address indexed burner, uint256 amount);

    constructor() ERC20("Livepeer Token", "LPT") ERC20Permit("Livepeer Token") {
        _grantRole(DEFAULT_ADMIN_ROLE, msg.sender);
        _grantRole(MINTER_ROLE, msg.sender);
    }

    /// Create `_amount` tokens for `_to` (MINTER_ROLE only).
    function mint(address _to, uint256 _amount) external onlyRole(MINTER_ROLE) {
        _mint(_to, _amount);
        emit Mint(_to, _amount);
    }

    /// Destroy `_amount` of `_from`'s tokens without an allowance (BURNER_ROLE only; bridge style).
    function burn(address _from, uint256 _amount) external onlyRole(BURNER_ROLE) {
        _burn(_from, _amount);
        emit Burn(_from, _amount);
    }

    /// Destroy `amount` of the caller's own tokens (the Minter uses this for trustedBurnTokens).
    function burn(uint256 amount) public override {
        super.burn(amount);
        emit Burn(_msgSender(), amount);
    }

    /// Destroy `amount` of `account`'s tokens using the caller's allowance.
    function burnFrom(address account, uint256 amount) public override {
        super.burnFrom(account, amount);
        emit Burn(account, amount);
    }
}
