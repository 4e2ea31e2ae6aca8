"""LivepeerToken: OpenZeppelin ERC20 + burn + permit + roles, with Mint/Burn events."""

from __future__ import annotations

from eth_account import Account
from eth_utils import keccak

from chain.devnet.accounts import dev_account
from tests.chain.helpers import LPT, events


def test_metadata_and_roles(chain):
    t = chain.c("LivepeerToken").functions
    assert (t.name().call(), t.symbol().call(), t.decimals().call()) == ("Livepeer Token", "LPT", 18)
    assert t.MINTER_ROLE().call() == keccak(text="MINTER_ROLE")
    assert t.BURNER_ROLE().call() == keccak(text="BURNER_ROLE")
    minter = chain.protocol.address("Minter")
    assert t.hasRole(t.MINTER_ROLE().call(), minter).call()
    assert t.hasRole(t.BURNER_ROLE().call(), minter).call()
    assert t.hasRole(t.MINTER_ROLE().call(), chain.deployer).call()  # the devnet faucet
    assert t.hasRole(b"\0" * 32, chain.deployer).call()


def test_mint_and_burn_emit_events(chain):
    token = chain.c("LivepeerToken")
    t = token.functions
    a, b = chain.accounts[1], chain.accounts[2]
    receipt = chain.send(t.mint(a, 5 * LPT), chain.deployer)
    (ev,) = events(receipt, token, "Mint")
    assert (ev.args.to, ev.args.amount) == (a, 5 * LPT)
    assert "is missing role" in chain.revert_reason(t.mint(a, 1), a)
    receipt = chain.send(t.burn(2 * LPT), a)
    (ev,) = events(receipt, token, "Burn")
    assert (ev.args.burner, ev.args.amount) == (a, 2 * LPT)
    assert t.balanceOf(a).call() == 3 * LPT and t.totalSupply().call() == 3 * LPT
    assert "is missing role" in chain.revert_reason(t.burn(a, LPT), b)
    chain.send(t.approve(b, LPT), a)
    receipt = chain.send(t.burnFrom(a, LPT), b)
    (ev,) = events(receipt, token, "Burn")
    assert (ev.args.burner, ev.args.amount) == (a, LPT)
    assert t.balanceOf(a).call() == 2 * LPT


def test_permit_sets_an_allowance_from_a_signature(chain, w3):
    t = chain.c("LivepeerToken").functions
    owner = dev_account(3)
    assert owner.address == chain.accounts[3]
    spender = chain.accounts[4]
    deadline = w3.eth.get_block("latest").timestamp + 3600
    nonce = t.nonces(owner.address).call()
    typed = {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Permit": [
                {"name": "owner", "type": "address"},
                {"name": "spender", "type": "address"},
                {"name": "value", "type": "uint256"},
                {"name": "nonce", "type": "uint256"},
                {"name": "deadline", "type": "uint256"},
            ],
        },
        "primaryType": "Permit",
        "domain": {
            "name": "Livepeer Token",
            "version": "1",
            "chainId": w3.eth.chain_id,
            "verifyingContract": chain.protocol.address("LivepeerToken"),
        },
        "message": {"owner": owner.address, "spender": spender, "value": 7 * LPT, "nonce": nonce,
                    "deadline": deadline},
    }
    sig = Account.sign_typed_data(owner.key, full_message=typed)
    chain.send(t.permit(owner.address, spender, 7 * LPT, deadline, sig.v, sig.r.to_bytes(32, "big"),
                        sig.s.to_bytes(32, "big")), chain.accounts[5])
    assert t.allowance(owner.address, spender).call() == 7 * LPT
    assert t.nonces(owner.address).call() == nonce + 1
