"""Getting paid: probabilistic micropayments (tickets), the crash-safe winning-ticket ledger and its
redemption worker, pricing, the gateway's ticket sender and the reward autopilot.

- tickets.py     ticket hash, EV, win test, signatures (coincurve)
- params.py      ticket parameters per gateway (face value, win probability, HMAC recipientRand)
- validation.py  ticket validation with a refusal code per reason; chain state cached per round
- ledger.py      winning tickets in SQLite, written before the gateway is answered
- redeemer.py    redeems stored tickets after their parameters expire, exactly once
- balances.py    credit per (sender, manifest)
- pricing.py     price per pixel (wei, or USD …), per-gateway prices, auto-adjusted overhead, persisted
- feed.py        the ETH price feed watcher that converts currency prices to wei
- receipts.py    tickets received per gateway and round (count, EV, winners), kept across restarts
- sender.py      the gateway side: tickets and payments per segment, nonce state
- autopilot.py   initialize rounds and call reward once per round, with history and alerts
- api.py         the management API endpoints (/pricing, /tickets, /rewards, /alerts)
- ports.py       what all this needs from the chain (implemented in chain/services/payment_ports.py)
The on-chain PaymentPolicy of the node is core/node/onchain.py; core/composition.onchain_node wires it.
"""
