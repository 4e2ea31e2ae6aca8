"""Governance: treasury proposals (state and tallies from `proposalVotes`), voting power, casting a vote
with a reason; LIP signalling polls (stake-weighted tallies computed like the Explorer's subgraph) and
poll votes."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import IntEnum

from chain.abi import abi
from chain.amounts import format_lpt, short_address
from chain.client import ChainClient
from chain.intents import PreflightError, StateChange, TxPlan, build_intent, make_plan
from chain.multicall import Call, aggregate, failed
from chain.reads import load_account, resolve

# Arbitrum One deployment blocks (protocol.md §1.2): where log scans start on mainnet.
GOVERNOR_DEPLOY_BLOCK = 139_793_525
POLL_CREATOR_DEPLOY_BLOCK = 5_857_075


class ProposalState(IntEnum):
    PENDING = 0
    ACTIVE = 1
    CANCELED = 2
    DEFEATED = 3
    SUCCEEDED = 4
    QUEUED = 5
    EXPIRED = 6
    EXECUTED = 7

    @property
    def label(self) -> str:
        return self.name.capitalize()


class Support(IntEnum):
    AGAINST = 0
    FOR = 1
    ABSTAIN = 2

    @classmethod
    def parse(cls, text: str) -> "Support":
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise PreflightError(f"{text!r} is not a vote", "use for, against or abstain") from None


@dataclass(frozen=True)
class Proposal:
    id: int
    proposer: str
    title: str
    description: str
    state: ProposalState
    against_votes: int
    for_votes: int
    abstain_votes: int
    snapshot: int  # round
    deadline: int  # round
    quorum: int | None  # None while the snapshot round has not ended
    quota: int  # parts per 1,000,000 of for+against that must be "for"
    created_block: int

    @property
    def total_votes(self) -> int:
        return self.for_votes + self.against_votes + self.abstain_votes

    @property
    def quorum_reached(self) -> bool | None:
        return None if self.quorum is None else self.total_votes >= self.quorum

    @property
    def passing(self) -> bool:
        decided = self.for_votes + self.against_votes
        return decided > 0 and self.for_votes >= decided * self.quota // 1_000_000

    def to_json(self) -> dict:
        d = asdict(self)
        d["id"] = str(self.id)
        d["state"] = self.state.label
        for k in ("against_votes", "for_votes", "abstain_votes", "quorum"):
            d[k] = None if d[k] is None else str(d[k])
        return d


def _scan_logs(w3, address, topics, from_block: int) -> list:
    """eth_getLogs over [from_block, latest], halving the range when the node refuses a large one."""
    head = w3.eth.block_number
    start = from_block if head >= from_block else 0  # a devnet placed at mainnet addresses is young

    def scan(lo: int, hi: int) -> list:
        try:
            return list(w3.eth.get_logs({"address": address, "topics": topics, "fromBlock": lo, "toBlock": hi}))
        except Exception:
            if hi - lo < 1_000:
                raise
            mid = (lo + hi) // 2
            return scan(lo, mid) + scan(mid + 1, hi)

    return scan(start, head)


def _title(description: str) -> str:
    first = next((ln for ln in description.splitlines() if ln.strip()), "")
    return first.lstrip("#").strip()[:120]


def list_proposals(client: ChainClient) -> list[Proposal]:
    """Every treasury proposal, newest first, with its state and authoritative tally."""
    from eth_utils import to_checksum_address

    gov = client.contract("LivepeerGovernor")
    event = gov.events.ProposalCreated()
    logs = _scan_logs(client.w3, gov.address, [_event_topic(event)],
                      0 if client.profile.is_devnet else GOVERNOR_DEPLOY_BLOCK)
    created = [event.process_log(log) for log in logs]
    if not created:
        return []
    calls = [Call.of(gov.functions.quota())]
    for ev in created:
        pid = ev["args"]["proposalId"]
        calls += [Call.of(gov.functions.state(pid)), Call.of(gov.functions.proposalVotes(pid)),
                  Call.of(gov.functions.proposalSnapshot(pid)), Call.of(gov.functions.proposalDeadline(pid))]
    values = aggregate(client.w3, client.profile.multicall3, calls)
    quota = values[0]
    snapshots = [values[1 + 4 * i + 2] for i in range(len(created))]
    quorums = aggregate(client.w3, client.profile.multicall3,
                        [Call.of(gov.functions.quorum(s), allow_failure=True) for s in snapshots])
    out = []
    for i, ev in enumerate(created):
        state, votes, snapshot, deadline = values[1 + 4 * i: 5 + 4 * i]
        args = ev["args"]
        out.append(Proposal(
            id=args["proposalId"], proposer=to_checksum_address(args["proposer"]), title=_title(args["description"]),
            description=args["description"], state=ProposalState(state), against_votes=votes[0],
            for_votes=votes[1], abstain_votes=votes[2], snapshot=snapshot, deadline=deadline,
            quorum=None if failed(quorums[i]) else quorums[i], quota=quota, created_block=ev["blockNumber"],
        ))
    return sorted(out, key=lambda p: p.created_block, reverse=True)


def _event_topic(event) -> str:
    from eth_utils import event_abi_to_log_topic

    return "0x" + event_abi_to_log_topic(event.abi).hex()


def find_proposal(client: ChainClient, proposal_id: int | str) -> Proposal:
    proposals = list_proposals(client)
    text = str(proposal_id).strip()
    for p in proposals:
        if str(p.id) == text or (text.startswith("0x") and p.id == int(text, 16)):
            return p
    matches = [p for p in proposals if str(p.id).startswith(text)] if len(text) >= 6 else []
    if len(matches) == 1:
        return matches[0]
    raise PreflightError(f"no proposal {text}", "list them with `lpc gov proposals`")


def voting_power(client: ChainClient, account: str, proposal: Proposal | None = None) -> int:
    """Votes of `account` for `proposal` (at its snapshot round), or from next round when None."""
    from eth_utils import to_checksum_address

    account = to_checksum_address(account)
    if proposal is None:
        resolve(client, "BondingVotes")
        return client.contract("BondingVotes").functions.getVotes(account).call()
    gov = client.contract("LivepeerGovernor")
    (power,) = aggregate(client.w3, client.profile.multicall3,
                         [Call.of(gov.functions.getVotes(account, proposal.snapshot), allow_failure=True)])
    return 0 if failed(power) else power


def vote(client: ChainClient, sender: str, proposal_id: int | str, support: Support | str, reason: str = "") -> TxPlan:
    """Cast a vote (for / against / abstain) with an optional reason."""
    from eth_utils import to_checksum_address

    sender = to_checksum_address(sender)
    support = Support.parse(support) if isinstance(support, str) else Support(support)
    p = find_proposal(client, proposal_id)
    if p.state is not ProposalState.ACTIVE:
        when = f"; voting opens after round {p.snapshot}" if p.state is ProposalState.PENDING else ""
        raise PreflightError(f"proposal “{p.title}” is {p.state.label}, not open for voting{when}",
                             "only Active proposals take votes")
    gov = client.contract("LivepeerGovernor")
    has_voted, power = aggregate(client.w3, client.profile.multicall3, [
        Call.of(gov.functions.hasVoted(p.id, sender)),
        Call.of(gov.functions.getVotes(sender, p.snapshot), allow_failure=True),
    ])
    power = 0 if failed(power) else power
    if has_voted:
        raise PreflightError(f"{sender} has already voted on “{p.title}”", "a vote cannot be changed")
    if power == 0:
        raise PreflightError(
            f"{sender} had no voting power at the proposal's snapshot (round {p.snapshot})",
            "voting power comes from stake bonded to a registered orchestrator before the snapshot round",
        )
    acct = load_account(client, sender)
    bucket = {Support.FOR: p.for_votes, Support.AGAINST: p.against_votes, Support.ABSTAIN: p.abstain_votes}[support]
    fn = gov.functions.castVoteWithReason(p.id, int(support), reason) if reason else \
        gov.functions.castVote(p.id, int(support))
    intent = build_intent(
        client, sender=sender, contract="LivepeerGovernor", fn=fn,
        action="castVoteWithReason" if reason else "castVote",
        summary=f"Vote {support.name.lower()} on “{p.title}” with {format_lpt(power)} of voting power"
                + (f", reason: {reason!r}" if reason else ""),
        changes=[StateChange(f"{support.name.lower()} votes", format_lpt(bucket), format_lpt(bucket + power),
                             "(a delegator's vote also comes off its orchestrator's)")],
    )
    return make_plan(client, f"vote {support.name.lower()}", [intent], eth_balance=acct.eth_balance)


# ------------------------------------------------------------------------------- polls


@dataclass(frozen=True)
class PollInfo:
    address: str
    proposal: str  # the IPFS multihash, 0x hex
    end_block: int  # "L1" block
    active: bool
    yes: int  # stake-weighted, current stake
    no: int
    voters: int
    quorum: int
    quota: int

    def to_json(self) -> dict:
        d = asdict(self)
        d["yes"], d["no"] = str(self.yes), str(self.no)
        return d


def list_polls(client: ChainClient) -> list[PollInfo]:
    """Every LIP poll, newest first, with its stake-weighted tally (latest vote per voter counts;
    a delegator's vote is taken off its orchestrator's, as the Explorer's subgraph does)."""
    from eth_utils import to_checksum_address

    creator = client.w3.eth.contract(address=client.address("PollCreator"), abi=abi("PollCreator"))
    ev = creator.events.PollCreated()
    logs = _scan_logs(client.w3, creator.address, [_event_topic(ev)],
                      0 if client.profile.is_devnet else POLL_CREATOR_DEPLOY_BLOCK)
    created = [ev.process_log(log) for log in logs]
    if not created:
        return []
    poll_abi = abi("Poll")
    vote_ev = client.w3.eth.contract(abi=poll_abi).events.Vote()
    poll_addrs = [to_checksum_address(c["args"]["poll"]) for c in created]
    vote_logs = _scan_logs(client.w3, poll_addrs, [_event_topic(vote_ev)], created[0]["blockNumber"])
    latest: dict[str, dict[str, int]] = {a: {} for a in poll_addrs}
    for log in sorted(vote_logs, key=lambda x: (x["blockNumber"], x["logIndex"])):
        d = vote_ev.process_log(log)
        latest[to_checksum_address(log["address"])][to_checksum_address(d["args"]["voter"])] = d["args"]["choiceID"]
    voters = sorted({v for votes in latest.values() for v in votes})
    resolve(client, "BondingManager", "RoundsManager")
    bm = client.contract("BondingManager").functions
    calls = [Call.of(client.contract("RoundsManager").functions.blockNum())]
    for v in voters:
        calls += [Call.of(bm.pendingStake(v, 0)), Call.of(bm.transcoderTotalStake(v)),
                  Call.of(bm.isRegisteredTranscoder(v)), Call.of(bm.getDelegator(v))]
    values = aggregate(client.w3, client.profile.multicall3, calls)
    now = values[0]
    info = {v: values[1 + 4 * i: 5 + 4 * i] for i, v in enumerate(voters)}
    out = []
    for c, addr in zip(created, poll_addrs):
        votes = latest[addr]
        weight: dict[str, int] = {}
        for v in votes:
            pending, total, registered, dele = info[v]
            weight[v] = total if registered else pending
        for v in votes:  # a delegator's vote comes off its orchestrator's weight
            pending, _total, registered, dele = info[v]
            if not registered and dele[2] in weight and info[dele[2]][2]:
                weight[dele[2]] -= pending
        yes = sum(max(0, weight[v]) for v, ch in votes.items() if ch == 0)
        no = sum(max(0, weight[v]) for v, ch in votes.items() if ch == 1)
        args = c["args"]
        out.append(PollInfo(address=addr, proposal="0x" + bytes(args["proposal"]).hex(), end_block=args["endBlock"],
                            active=now <= args["endBlock"], yes=yes, no=no, voters=len(votes),
                            quorum=args["quorum"], quota=args["quota"]))
    return list(reversed(out))


def poll_vote(client: ChainClient, sender: str, poll: str, choice: str) -> TxPlan:
    """Vote yes or no in a LIP poll (voting again replaces the earlier vote)."""
    from eth_utils import to_checksum_address

    sender, poll = to_checksum_address(sender), to_checksum_address(poll)
    choice_id = {"yes": 0, "no": 1}.get(choice.strip().lower())
    if choice_id is None:
        raise PreflightError(f"{choice!r} is not a poll choice", "use yes or no")
    polls = {p.address: p for p in list_polls(client)}
    p = polls.get(poll)
    if p is None:
        raise PreflightError(f"{poll} is not a poll created by the PollCreator", "list polls with `lpc poll list`")
    if not p.active:
        raise PreflightError(f"poll {short_address(poll)} ended at L1 block {p.end_block}", "polls only take votes until then")
    acct = load_account(client, sender)
    warnings = []
    if acct.pending_stake == 0 and not acct.is_registered_transcoder:
        warnings.append("this account has no stake: its vote carries no weight")
    contract = client.w3.eth.contract(address=poll, abi=abi("Poll"))
    intent = build_intent(
        client, sender=sender, contract="Poll", fn=contract.functions.vote(choice_id), action="pollVote",
        summary=f"Vote {choice.strip().lower()} in poll {poll} (ends at L1 block {p.end_block})",
        changes=[StateChange("your vote", "—", choice.strip().lower(), "(a later vote replaces it)")],
        warnings=warnings,
    )
    return make_plan(client, f"poll vote {choice.strip().lower()}", [intent], eth_balance=acct.eth_balance)
