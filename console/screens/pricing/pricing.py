"""Pricing: the price as set (wei, or USD converted with the ETH price feed, whose rate and age are shown),
the base and advertised price (wei per pixel and in gwei), the auto-adjust overhead now and
why (redemption cost against face value), where the price sits among the other orchestrators' prices,
the headroom under known gateways' max prices, and changing the default or a gateway's price at runtime
(the running node's price book: applied at once, persisted)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, DataTable, Input, Static

from chain.amounts import clip, format_eth, format_gwei
from console.screens.base import ConsoleScreen
from console.screens.chain_view import Notice, describe_failure
from console.screens.dashboard.node_toggle import NodeToggle
from core.gateway.discovery import NetworkPrice
from core.payments.views import PricingView
from console.screens.pricing.price_view import load_pricing, per_pixel
from console.screens.tickets.ledger_view import node_unavailable

NETWORK_COLUMNS = (("address", "Orchestrator", 13), ("uri", "Service host", 26), ("price", "wei/pixel", 11),
                   ("note", "Source", 33))
CAP_COLUMNS = (("gateway", "Gateway", 13), ("max", "Max wei/px", 11), ("ours", "Ours", 11), ("room", "Headroom", 12))


@dataclass
class PricingLoaded(Message):
    view: PricingView | None
    reason: str | None = None


@dataclass
class NetworkPricesLoaded(Message):
    prices: list[NetworkPrice] | None
    reason: str | None = None


@dataclass
class PriceApplied(Message):
    ok: bool
    text: str


def _right(text: str) -> Text:
    return Text(text, justify="right")


def _feed_text(feed: dict) -> Text:
    """ "ETH/USD 3,000.00 · feed 0x639F…a612 · answer 4 min old" (bold when stale or failing)."""
    if not feed.get("configured"):
        return Text(f"no price feed: {feed.get('reason')}", style="bold")
    if not feed.get("price"):
        return Text(f"feed {clip(feed['address'], 13)} has not answered: {feed.get('last_error')}", style="bold")
    from core.payments.feed import age_text

    text = Text(f"ETH/{feed['quote']} {float(feed['price']):,.2f} · feed {clip(feed['address'], 13)} · answer "
                f"{age_text(feed['age_s'])} old")
    if feed.get("stale"):
        text.append("  STALE", style="bold reverse")
    if feed.get("last_error"):
        text.append(f"  last read failed: {feed['last_error']}", style="bold")
    return text


def _wei_px(price: Fraction | None) -> str:
    if price is None:
        return "unknown"
    return f"{float(price):,.0f}" if price.denominator == 1 or float(price) >= 100 else f"{float(price):,.3f}"


class PricingScreen(NodeToggle, ConsoleScreen):
    CSS_PATH = "pricing.tcss"
    BINDINGS = [
        NodeToggle.NODE_BINDING,
        Binding("ctrl+s", "set_price", "Set price", id="pricing.set"),
        # ctrl+t, not ctrl+a: in the price field ctrl+a is "start of line"
        Binding("ctrl+t", "toggle_auto", "Auto-adjust on/off", id="pricing.auto_adjust"),
        Binding("r", "reload", "Refresh", id="pricing.refresh"),
    ]

    def __init__(self) -> None:
        super().__init__(id="pricing")
        self.view: PricingView | None = None
        self.network: list[NetworkPrice] | None = None

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="top"):
            yield Static("reading prices…", id="price-panel")
            with Vertical(id="edit"):
                yield Static("Change a price (applied at once, persisted)", classes="title")
                yield Input(placeholder="gateway 0x… (empty: the default price)", id="price-sender")
                with Horizontal(classes="pair"):
                    yield Input(placeholder="wei or 0.5USD", id="price-unit")
                    yield Input(value="1", placeholder="pixels per unit", id="price-pixels")
                with Horizontal(classes="pair"):
                    yield Button("Set price  ^s", id="set-price", variant="primary")
                    yield Button("Auto-adjust  ^t", id="toggle-auto")
                yield Notice("", id="price-notice")
        with Horizontal(id="bottom"):
            with Vertical(id="network-box"):
                yield Static("reading the active set…", id="network-summary")
                yield DataTable(id="network-prices", cursor_type="row", zebra_stripes=True)
            with Vertical(id="caps-box"):
                yield Static("Headroom under gateways' max prices", classes="title")
                yield DataTable(id="caps", cursor_type="row", zebra_stripes=True)
                yield Static("", id="caps-note")

    def on_mount(self) -> None:
        super().on_mount()
        for selector, columns in (("#network-prices", NETWORK_COLUMNS), ("#caps", CAP_COLUMNS)):
            table = self.query_one(selector, DataTable)
            for key, label, width in columns:
                table.add_column(label, key=key, width=width)
        self.query_one("#network-prices", DataTable).focus()  # letters navigate until a field is picked
        self.reload()
        self.probe_network()

    def node_changed(self, error: str | None = None) -> None:
        self.reload()
        self.probe_network()

    # -- loading --------------------------------------------------------------------------------
    def action_reload(self) -> None:
        self.reload()
        self.probe_network()

    def chain_polled(self, info) -> None:
        self.reload()

    @work(thread=True, exclusive=True, group="pricing-load")
    def reload(self) -> None:
        services = self.app.services
        try:
            view = load_pricing(services.node_parts if services.node is not None else None, services.settings)
        except Exception as exc:  # noqa: BLE001
            self.post_message(PricingLoaded(None, f"could not read the prices: {describe_failure(exc)}"))
            return
        self.post_message(PricingLoaded(view))

    @work(thread=True, exclusive=True, group="pricing-network")
    def probe_network(self) -> None:
        from chain.reads import load_orchestrator_pool
        from core.gateway.discovery import network_prices

        services = self.app.services
        parts = services.node_parts if services.node is not None else None
        try:
            pool = load_orchestrator_pool(services.client, cache=self.app.pool_cache)
            own_price = None
            address = sign = None
            if parts is not None:
                own_price = parts.payments.own_price()
                address, sign = bytes.fromhex(parts.broker.address[2:]), parts.broker.sign_message
            prices = network_prices(pool, services.account, own_price, address, sign)
        except Exception as exc:  # noqa: BLE001
            self.post_message(NetworkPricesLoaded(None, describe_failure(exc)))
            return
        self.post_message(NetworkPricesLoaded(prices))

    # -- rendering ------------------------------------------------------------------------------
    def on_pricing_loaded(self, message: PricingLoaded) -> None:
        panel = self.query_one("#price-panel", Static)
        if message.view is None:
            panel.update(Text(message.reason or "", style="bold"))
            return
        v = self.view = message.view
        t = Table.grid(padding=(0, 1))
        t.add_column(style="bold", no_wrap=True, width=11)
        t.add_column()
        if not v.running:
            t.add_row("node", Text(node_unavailable(self.app.services) or "stopped", style="italic"))
            t.add_row("configured", f"{v.given} (settings node.price_per_unit ÷ pixels_per_unit)")
            if v.base is None:
                t.add_row("", "converted to wei with the network's ETH price feed when the node runs")
        else:
            t.add_row("price", v.given)
            if v.feed is not None and (v.feed.get("configured") or v.base is None):
                t.add_row("ETH rate", _feed_text(v.feed))
            t.add_row("base", per_pixel(v.base))
            t.add_row("advertised", per_pixel(v.advertised) + (
                "  = base × (1 + overhead)" if v.auto_adjust else "  = base (auto-adjust off)"))
            t.add_row("auto-adjust", "on — the redemption overhead is added" if v.auto_adjust else
                      "off — gateways see the base price; redemption gas comes out of your fees")
            o = v.default_overhead
            if o is not None:
                t.add_row("gas", f"{format_gwei(o.gas_price)} × {v.redeem_gas:,} gas = "
                                 f"{format_eth(o.tx_cost, 9)} to redeem a winning ticket")
                if o.face_value:
                    t.add_row("overhead", f"{float(o.overhead):.2%} = redemption cost ÷ face value "
                                          f"{format_eth(o.face_value, 9)}")
                    t.add_row("why", o.why + (" — the overhead (and the price) rises if a gateway's max float "
                                              "caps the face value" if "capped" not in o.why else ""))
                else:
                    t.add_row("overhead", Text(f"no ticket params: {o.why}", style="bold"))
            for g in v.gateways:
                if g.own_price:
                    t.add_row("gateway", f"{clip(g.sender, 13)}: base {per_pixel(g.base)}")
        panel.update(t)
        self._fill_caps(v)
        self._own_price_changed(v)

    def _fill_caps(self, v: PricingView) -> None:
        table = self.query_one("#caps", DataTable)
        table.clear()
        shown = [g for g in v.gateways if g.max_price is not None]
        for g in shown:
            room = g.headroom
            if room is None:
                cell = Text("unknown", style="dim")
            elif room < 0:
                cell = Text(f"✗ {float(room):.1%}", style="bold reverse")
            else:
                cell = Text(f"{float(room):.1%}", style="bold" if room < Fraction(1, 10) else "")
            table.add_row(clip(g.sender, 13), _right(_wei_px(g.max_price)), _right(_wei_px(g.advertised or g.base)),
                          cell, key=g.sender)
        note = self.query_one("#caps-note", Static)
        if not shown:
            note.update("No gateway max prices known. List them in settings.toml:\n"
                        "[node.gateway_max_prices]\n\"0xGateway…\" = 1200  # wei per pixel")
        else:
            note.update("✗ = above the gateway's max: it sends this node no work. Ours = advertised to that "
                        "gateway (base when the node is stopped).")

    def on_network_prices_loaded(self, message: NetworkPricesLoaded) -> None:
        if message.prices is None:
            self.query_one("#network-prices", DataTable).clear()
            self.query_one("#network-summary", Static).update(
                Text(f"could not read the active set: {message.reason}", style="bold"))
            return
        self._render_network(message.prices)

    def _own_price_changed(self, v: PricingView) -> None:
        """This node's row follows its price book (a price set here, a USD price following ETH) without
        probing the whole network again."""
        if not self.network or not v.running:
            return
        prices = [replace(p, price=v.advertised) if p.note == "this node (advertised)" else p for p in self.network]
        if prices != self.network:
            self._render_network(prices)

    def _render_network(self, prices: list[NetworkPrice]) -> None:
        summary = self.query_one("#network-summary", Static)
        table = self.query_one("#network-prices", DataTable)
        table.clear()
        self.network = prices
        for p in prices:
            host = p.service_uri.split("://", 1)[-1]
            table.add_row(clip(p.address, 13), clip(host, 26), _right(_wei_px(p.price)),
                          clip(p.note, 33), key=p.address)
        own = next((p for p in prices if p.note.startswith("this node")), None)
        known = [p for p in prices if p.price is not None and p is not own]
        line = Text()
        line.append("Network prices: ", style="bold")
        line.append(f"{len(known)} of {len(prices) - (own is not None)} other active orchestrators answered")
        if known:
            low, high = min(p.price for p in known), max(p.price for p in known)
            line.append(f" · {_wei_px(low)}–{_wei_px(high)} wei/px")
        if own is not None and own.price is not None and known:
            cheaper = sum(p.price > own.price for p in known)
            line.append(f" · you are cheaper than {cheaper} of them", style="bold")
        elif not known:
            line.append(" · no price to compare with (unknown ones are shown with the reason)")
        summary.update(line)

    # -- editing --------------------------------------------------------------------------------
    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "set-price":
            self.action_set_price()
        elif event.button.id == "toggle-auto":
            self.action_toggle_auto()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_set_price()

    def action_set_price(self) -> None:
        from core.payments.api import _address
        from core.payments.pricing import DEFAULT, PriceError, parse_pixels, parse_price

        notice = self.query_one("#price-notice", Notice)
        services = self.app.services
        if services.node_parts is None or services.node is None:
            notice.say("✗ the price book belongs to the running on-chain node: start it with x",
                       "error")
            return
        raw_sender = self.query_one("#price-sender", Input).value.strip()
        try:
            sender = _address(raw_sender) if raw_sender else DEFAULT
            unit = parse_price(self.query_one("#price-unit", Input).value)
            pixels = parse_pixels(self.query_one("#price-pixels", Input).value or "1")
        except PriceError as exc:
            notice.say(f"✗ {exc}", "error")
            return
        notice.say("applying…")
        self._apply(sender, unit, pixels)

    def action_toggle_auto(self) -> None:
        parts = self.app.services.node_parts
        if parts is None:
            self.query_one("#price-notice", Notice).say("✗ start the on-chain node first (x)", "error")
            return
        self._apply_auto(not parts.prices.auto_adjust)

    @work(thread=True, exclusive=True, group="pricing-apply")
    def _apply(self, sender: str, unit, pixels: int) -> None:
        from core.payments.views import given_text

        prices = self.app.services.node_parts.prices
        try:
            entry = prices.set(unit, pixels, sender)
            wei = per_pixel(entry.wei_per_pixel(prices.rates))
        except Exception as exc:  # noqa: BLE001 - PriceError or the store: say why nothing changed
            self.post_message(PriceApplied(False, f"✗ not changed: {exc}"))
            return
        who = f"for {sender}" if sender else "default"
        now = wei if entry.currency == "WEI" else f"{given_text(entry)} = {wei} at today's rate"
        self.post_message(PriceApplied(True, f"✓ {who} price now {now} — gateways see it on their next "
                                             "GetOrchestrator"))

    @work(thread=True, exclusive=True, group="pricing-apply")
    def _apply_auto(self, on: bool) -> None:
        try:
            self.app.services.node_parts.prices.set_auto_adjust(on)
        except Exception as exc:  # noqa: BLE001
            self.post_message(PriceApplied(False, f"✗ not changed: {exc}"))
            return
        self.post_message(PriceApplied(True, f"✓ auto-adjust {'on' if on else 'off'}"))

    def on_price_applied(self, message: PriceApplied) -> None:
        self.query_one("#price-notice", Notice).say(message.text, "ok" if message.ok else "error")
        self.app.log_event("success" if message.ok else "error", f"pricing: {message.text.lstrip('✓✗ ')}")
        self.reload()
