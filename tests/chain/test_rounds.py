"""RoundsManager and Minter on a real anvil: round numbering in "L1" blocks, initialization, lock."""

from __future__ import annotations

from chain import protocol_math as pm
from chain.devnet.deploy import DevnetParams
from tests.chain.helpers import ETH, LPT, events

P = DevnetParams()
OFFSET = 20_000_000


def test_block_num_is_l1_domain_not_eth_block_number(chain, w3):
    assert chain.block_num() == w3.eth.block_number + OFFSET


def test_round_formula_and_anchor(chain):
    rm = chain.c("RoundsManager").functions
    assert rm.roundLength().call() == P.round_length
    assert rm.roundLockAmount().call() == P.round_lock_amount
    anchor_round = rm.lastRoundLengthUpdateRound().call()
    anchor_block = rm.lastRoundLengthUpdateStartBlock().call()
    # the first setRoundLength anchored numbering at blockNum // roundLength
    assert anchor_block == anchor_round * P.round_length
    for _ in range(3):
        num = chain.block_num()
        expected = anchor_round + (num - anchor_block) // P.round_length
        assert rm.currentRound().call() == expected
        assert rm.currentRoundStartBlock().call() == anchor_block + (expected - anchor_round) * P.round_length
        chain.mine(7)


def test_initialize_round_stores_block_hash_and_emits_new_round(chain, w3):
    rm = chain.c("RoundsManager")
    rnd = chain.mine_to_next_round()
    assert rm.functions.currentRoundInitialized().call() is False
    receipt = chain.send(rm.functions.initializeRound(), chain.accounts[5])
    (ev,) = events(receipt, rm, "NewRound")
    parent = w3.eth.get_block(receipt.blockNumber - 1)
    assert ev.args.round == rnd
    assert ev.args.blockHash == parent.hash
    assert int.from_bytes(parent.hash, "big") != 0
    assert rm.functions.blockHashForRound(rnd).call() == parent.hash
    assert rm.functions.lastInitializedRound().call() == rnd
    assert rm.functions.currentRoundInitialized().call() is True
    assert chain.revert_reason(rm.functions.initializeRound(), chain.deployer) == "execution reverted: round already initialized"
    # the Minter set this round's mintable tokens in the same transaction
    minter = chain.c("Minter")
    (mint_ev,) = events(receipt, minter, "SetCurrentRewardTokens")
    assert mint_ev.args.currentMintableTokens == minter.functions.currentMintableTokens().call()


def test_nothing_works_until_the_round_is_initialized(chain):
    chain.mine_to_next_round()
    bm = chain.c("BondingManager").functions
    who = chain.accounts[3]
    assert "current round is not initialized" in chain.revert_reason(bm.bond(0, who), who)
    assert "current round is not initialized" in chain.revert_reason(bm.reward(), who)
    assert "current round is not initialized" in chain.revert_reason(bm.withdrawStake(0), who)


def test_lock_period_is_the_last_tenth_of_the_round(chain):
    rm = chain.c("RoundsManager").functions
    chain.mine_to_next_round()
    assert rm.currentRoundLocked().call() is False
    locked_from = P.round_length - P.round_length * P.round_lock_amount // 1_000_000  # 18
    chain.mine_to_round_offset(locked_from - 1)
    assert rm.currentRoundLocked().call() is False
    chain.mine(1)
    assert rm.currentRoundLocked().call() is True
    chain.mine(1)
    assert rm.currentRoundLocked().call() is True
    chain.mine(1)  # next round
    assert rm.currentRoundLocked().call() is False


def test_block_hash_window(chain, w3):
    rm = chain.c("RoundsManager").functions
    chain.mine(300)
    latest = w3.eth.get_block("latest")
    num = chain.block_num()
    assert rm.blockHash(num - 1).call() == w3.eth.get_block(latest.number - 1).hash
    assert "can only retrieve past block hashes" in chain.revert_reason(rm.blockHash(num), chain.deployer)
    assert "last 256 blocks" in chain.revert_reason(rm.blockHash(num - 257), chain.deployer)


def test_round_length_change_applies_at_next_initialization(chain):
    rm = chain.c("RoundsManager").functions
    chain.next_round()
    outsider = chain.accounts[4]
    assert "caller must be Controller owner" in chain.revert_reason(rm.setRoundLength(30), outsider)
    assert "round length cannot be 0" in chain.revert_reason(rm.setRoundLength(0), chain.deployer)
    chain.send(rm.setRoundLength(30), chain.deployer)
    assert rm.roundLength().call() == P.round_length  # not yet
    rnd = chain.next_round()
    assert rm.roundLength().call() == 30
    assert rm.lastRoundLengthUpdateRound().call() == rnd
    start = rm.currentRoundStartBlock().call()
    assert rm.lastRoundLengthUpdateStartBlock().call() == start
    chain.mine(start + 29 - chain.block_num())
    assert rm.currentRound().call() == rnd
    chain.mine(1)
    assert rm.currentRound().call() == rnd + 1


def test_owner_setters(chain):
    rm = chain.c("RoundsManager").functions
    assert "valid percentage" in chain.revert_reason(rm.setRoundLockAmount(1_000_001), chain.deployer)
    chain.send(rm.setRoundLockAmount(500_000), chain.deployer)
    assert rm.roundLockAmount().call() == 500_000
    assert rm.lipUpgradeRound(36).call() == 0
    chain.send(rm.setLIPUpgradeRound(36, 1234), chain.deployer)
    assert rm.lipUpgradeRound(36).call() == 1234
    assert "already set" in chain.revert_reason(rm.setLIPUpgradeRound(36, 1), chain.deployer)
    assert "caller must be Controller owner" in chain.revert_reason(rm.setLIPUpgradeRound(1, 1), chain.accounts[2])


def test_pause_blocks_round_initialization(chain):
    controller = chain.c("Controller")
    chain.mine_to_next_round()
    chain.send(controller.functions.pause(), chain.deployer)
    assert "system is paused" in chain.revert_reason(chain.c("RoundsManager").functions.initializeRound(), chain.deployer)
    chain.send(controller.functions.unpause(), chain.deployer)
    chain.send(chain.c("RoundsManager").functions.initializeRound(), chain.deployer)


# ---------------------------------------------------------------------------------------------- Minter


def test_inflation_moves_towards_the_target_bonding_rate(chain):
    minter = chain.c("Minter").functions
    token = chain.c("LivepeerToken").functions
    o = chain.accounts[1]
    chain.next_round()
    inflation0 = minter.inflation().call()
    assert inflation0 == P.inflation + P.inflation_change  # nothing bonded at the first initialization
    chain.register_transcoder(o, 800 * LPT)
    chain.mint_lpt(chain.accounts[2], 200 * LPT)  # supply 1000, 80 % will be active
    chain.next_round()  # o becomes active in this round
    supply = token.totalSupply().call()
    assert minter.getGlobalTotalSupply().call() == supply
    rate = pm.bonding_rate(800 * LPT, supply)
    assert rate == 800_000_000
    assert minter.inflation().call() == inflation0 - P.inflation_change  # above the 50 % target
    assert minter.currentMintableTokens().call() == pm.mintable_tokens(supply, minter.inflation().call())
    assert minter.currentMintedTokens().call() == 0


def test_inflation_is_floored_at_zero(chain):
    minter = chain.c("Minter").functions
    chain.send(minter.setInflationChange(10**9), chain.deployer)
    chain.send(minter.setTargetBondingRate(0), chain.deployer)
    chain.next_round()
    o = chain.accounts[1]
    chain.register_transcoder(o, 10 * LPT)
    chain.next_round()  # bonding rate 100 % > target 0 → inflation − change, floored
    assert minter.inflation().call() == 0
    assert minter.currentMintableTokens().call() == 0


def test_minter_access_control(chain):
    minter = chain.c("Minter").functions
    x = chain.accounts[7]
    assert "msg.sender not BondingManager" in chain.revert_reason(minter.createReward(1, 1), x)
    assert "msg.sender not BondingManager" in chain.revert_reason(minter.trustedTransferTokens(x, 1), x)
    assert "msg.sender not BondingManager" in chain.revert_reason(minter.trustedBurnTokens(1), x)
    assert "msg.sender not BondingManager or JobsManager" in chain.revert_reason(minter.trustedWithdrawETH(x, 1), x)
    assert "msg.sender not Minter or JobsManager" in chain.revert_reason(minter.depositETH(), x, value=1)
    assert "msg.sender not RoundsManager" in chain.revert_reason(minter.setCurrentRewardTokens(), x)
    assert "caller must be Controller owner" in chain.revert_reason(minter.setTargetBondingRate(1), x)
    assert "invalid percentage" in chain.revert_reason(minter.setInflationChange(10**9 + 1), chain.deployer)
    assert minter.getController().call() == chain.protocol.controller
    assert minter.targetBondingRate().call() == P.target_bonding_rate
    assert minter.inflationChange().call() == P.inflation_change


def test_minter_holds_fee_eth_from_the_jobs_manager(chain, w3):
    minter = chain.c("Minter")
    broker = chain.impersonate(chain.protocol.address("JobsManager"))
    chain.send(minter.functions.depositETH(), broker, value=3 * ETH)
    assert w3.eth.get_balance(minter.address) == 3 * ETH
    payee = w3.to_checksum_address("0x00000000000000000000000000000000000000aa")
    chain.send(minter.functions.trustedWithdrawETH(payee, ETH), broker)
    assert w3.eth.get_balance(payee) == ETH
    assert w3.eth.get_balance(minter.address) == 2 * ETH
    chain.stop_impersonating(broker)
