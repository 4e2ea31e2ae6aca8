"""The chain services, grouped by user task. Reads return frozen dataclasses (integer wei); writes
return a `chain.intents.TxPlan` to show, which `chain.tx.execute_plan(client, plan, signer, journal)`
signs and sends. A write refuses with `chain.intents.PreflightError(reason, fix)` before anything is
signed.

- account:      overview(client, address) -> AccountOverview; balances(client, addresses)
- overview:     load_overview(client, address, pool_cache=) -> Overview (balances, delegation, attention items)
- network:      network_activity(client, cache=ActivityCache()) -> reward calls and fees per orchestrator over
                the last 30 rounds; forecast_yield(...) the Explorer's forecasted yield (protocol.md §4.2)
- staking:      bond, unbond, rebond, rebond_from_unbonded, withdraw_stake, withdraw_fees, transfer_bond
- rounds:       load_round_info(client) -> RoundInfo; initialize(client, sender)
- orchestrator: reward(client, sender, transcoder=None, cache=None), forecast_reward, set_reward_caller,
                configure(client, sender, reward_cut=, fee_share=, service_uri=)
- governance:   list_proposals, find_proposal, voting_power, vote(client, sender, id, support, reason),
                list_polls, poll_vote(client, sender, poll, "yes"|"no")
- earnings:     earnings(client, address) -> Earnings (per round since the last claim, claimed spans before)
- price_feed:   PriceFeedReader(client, address=None).latest() -> FeedRound (a Chainlink AggregatorV3 feed;
                the profile's ETH/USD feed by default)
The orchestrator pool is `chain.reads.load_orchestrator_pool(client, cache=PoolCache())`.
"""
