"""Wallet: the accounts of the OS keyring with their balances; switch the account the console acts as,
create one, import one (a JSON keystore file and its passphrase, or a private key typed into a masked
field), export one to a keystore file. Keys and passphrases are never shown, logged or kept: they go
from the masked field to the wallet and the field is cleared. A locked or missing keyring is said on
the screen, with what to do."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, DataTable, Input, Static, TabbedContent, TabPane

from chain.amounts import format_eth, format_lpt
from console.screens.base import ConsoleScreen
from console.screens.chain_view import Notice, describe_failure
from console.widgets.status_header import StatusHeader

COLUMNS = (("current", "", 2), ("label", "Label", 20), ("address", "Address", 42), ("lpt", "LPT", 18),
           ("eth", "ETH", 16))
SECRET_INPUTS = ("key-hex", "keystore-pass", "export-pass", "export-pass2")


@dataclass
class WalletLoaded(Message):
    accounts: list  # chain.wallet.AccountInfo
    balances: dict  # address → (lpt, eth) or None when the chain could not be read
    chain_error: str = ""


@dataclass
class WalletUnavailable(Message):
    reason: str


@dataclass
class WalletDone(Message):
    form: str
    text: str
    ok: bool
    address: str | None = None


class WalletScreen(ConsoleScreen):
    CSS_PATH = "wallet.tcss"
    BINDINGS = [
        Binding("u", "use", "Use this account", id="wallet.use"),
        Binding("1", "form('create')", "New", id="wallet.create"),
        Binding("2", "form('keystore')", "Import keystore", id="wallet.import_keystore"),
        Binding("3", "form('key')", "Import key", id="wallet.import_key"),
        Binding("4", "form('export')", "Export", id="wallet.export"),
    ]

    def __init__(self) -> None:
        super().__init__(id="wallet")
        self.accounts: list = []

    def compose_body(self) -> ComposeResult:
        yield Static("reading the keyring…", id="summary")
        yield DataTable(id="accounts", cursor_type="row", zebra_stripes=True)
        yield Static("", id="unavailable")
        with TabbedContent(id="forms", initial="tab-create"):
            with TabPane("1 New account", id="tab-create"):
                yield from self._field("Label", Input(placeholder="optional, e.g. cold-orchestrator", id="create-label"))
                yield from self._submit("create", "Create account")
            with TabPane("2 Import keystore", id="tab-keystore"):
                yield from self._field("Keystore file", Input(placeholder="path to a geth / go-livepeer JSON keystore",
                                                              id="keystore-path"))
                yield from self._field("Passphrase", Input(password=True, placeholder="the keystore's passphrase",
                                                           id="keystore-pass"))
                yield from self._field("Label", Input(placeholder="optional", id="keystore-label"))
                yield from self._submit("keystore", "Import keystore")
            with TabPane("3 Import key", id="tab-key"):
                yield from self._field("Private key", Input(password=True, placeholder="64 hex digits (masked, never "
                                                            "logged)", id="key-hex"))
                yield from self._field("Label", Input(placeholder="optional", id="key-label"))
                yield from self._submit("key", "Import key")
            with TabPane("4 Export", id="tab-export"):
                yield Static("", id="export-account")
                yield from self._field("Save to", Input(placeholder="path of a new keystore file", id="export-path"))
                yield from self._field("Passphrase", Input(password=True, placeholder="encrypts the file",
                                                           id="export-pass"))
                yield from self._field("Again", Input(password=True, placeholder="the same passphrase",
                                                      id="export-pass2"))
                yield from self._submit("export", "Export keystore")

    def _field(self, label: str, widget: Input) -> ComposeResult:
        with Horizontal(classes="field"):
            yield Static(label, classes="label")
            with Vertical(classes="input-col"):
                yield widget
                yield Notice("", id=f"{widget.id}-msg", classes="field-msg")

    def _submit(self, form: str, label: str) -> ComposeResult:
        with Horizontal(classes="submit-row"):
            yield Button(label, id=f"{form}-submit", variant="primary")
            yield Notice("", id=f"{form}-result")

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one("#accounts", DataTable)
        for key, label, width in COLUMNS:
            table.add_column(label, key=key, width=width)
        table.focus()
        self._validate_all()
        self.reload()

    # -- loading ------------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="wallet-load")
    def reload(self) -> None:
        from chain.services.account import balances
        from chain.wallet import WalletError

        svc = self.app.services
        try:
            accounts = svc.wallet.list()
        except WalletError as exc:
            self.post_message(WalletUnavailable(str(exc)))
            return
        except Exception as exc:  # noqa: BLE001 - an unexpected keyring failure: say it, don't crash
            self.post_message(WalletUnavailable(f"the keyring failed: {describe_failure(exc)}"))
            return
        try:
            found = balances(svc.client, [a.address for a in accounts])
            error = ""
        except Exception as exc:  # noqa: BLE001 - the accounts are still worth showing
            found, error = {}, describe_failure(exc)
        self.post_message(WalletLoaded(accounts, found, error))

    def on_wallet_unavailable(self, message: WalletUnavailable) -> None:
        self.add_class("-unavailable")
        self.query_one("#summary", Static).update(Text("⚠ the keyring wallet is not available", style="bold"))
        self.query_one("#unavailable", Static).update(message.reason)
        for button in self.query(Button):
            button.disabled = True

    def on_wallet_loaded(self, message: WalletLoaded) -> None:
        self.remove_class("-unavailable")
        self.accounts = message.accounts
        current = self.app.services.account
        table = self.query_one("#accounts", DataTable)
        cursor = table.cursor_row
        table.clear()
        for a in message.accounts:
            lpt, eth = message.balances.get(a.address, (None, None))
            mark = Text("●", style="bold") if a.address == current else ""
            table.add_row(mark, Text(a.label) if a.label else Text("—", style="dim"), a.address,
                          Text(format_lpt(lpt, 4) if lpt is not None else "?", justify="right"),
                          Text(format_eth(eth, 4) if eth is not None else "?", justify="right"), key=a.address)
        if message.accounts:
            table.move_cursor(row=min(cursor, len(message.accounts) - 1))
        n = len(message.accounts)
        listed = current in {a.address for a in message.accounts}
        text = (f"{n} account{'s' * (n != 1)} in the keyring · acting as {current or 'nobody'}"
                + ("" if listed or not current else " (not in this keyring: read-only)")
                + (" · u switches to the selected one" if n else " · create or import one below"))
        if message.chain_error:
            text += f" · balances unavailable: {message.chain_error}"
        self.query_one("#summary", Static).update(text)
        self._show_export_account()
        self._validate_all()

    # -- validation ---------------------------------------------------------------------------
    def _value(self, input_id: str) -> str:
        return self.query_one(f"#{input_id}", Input).value

    def _errors(self, form: str) -> dict[str, str]:
        errors: dict[str, str] = {}
        if form == "keystore":
            if not self._value("keystore-path").strip():
                errors["keystore-path"] = "give the path of the keystore file"
            if not self._value("keystore-pass"):
                errors["keystore-pass"] = "give the keystore's passphrase"
        elif form == "key":
            raw = self._value("key-hex").strip().removeprefix("0x").removeprefix("0X")
            if not raw:
                errors["key-hex"] = "paste the private key (64 hex digits)"
            elif len(raw) != 64 or any(c not in "0123456789abcdefABCDEF" for c in raw):
                errors["key-hex"] = f"a private key is 64 hex digits; this has {len(raw)} characters"
        elif form == "export":
            if self._selected() is None:
                errors["export-path"] = "select an account in the table first"
            elif not self._value("export-path").strip():
                errors["export-path"] = "give the path of the file to write"
            elif Path(self._value("export-path")).expanduser().exists():
                errors["export-path"] = "that file exists: give a new path (nothing is overwritten)"
            if not self._value("export-pass"):
                errors["export-pass"] = "choose a passphrase for the file"
            elif self._value("export-pass2") != self._value("export-pass"):
                errors["export-pass2"] = "the two passphrases differ"
        return errors

    def _validate(self, form: str) -> bool:
        errors = self._errors(form)
        for notice in self.query(f"#tab-{form} .field-msg").results(Notice):
            input_id = notice.id.removesuffix("-msg")
            error = errors.get(input_id, "")
            if not self._value(input_id):
                error = ""  # an empty field says nothing until it is typed in
            notice.say(error, "error" if error else "")
        ok = not errors and not self.has_class("-unavailable")
        self.query_one(f"#{form}-submit", Button).disabled = not ok
        return ok

    def _validate_all(self) -> None:
        for form in ("create", "keystore", "key", "export"):
            self._validate(form)

    def on_input_changed(self, event: Input.Changed) -> None:
        form = {"create": "create", "keystore": "keystore", "key": "key", "export": "export"}.get(
            (event.input.id or "").split("-", 1)[0])
        if form:
            self._validate(form)

    # -- selection ----------------------------------------------------------------------------
    def _selected(self):
        table = self.query_one("#accounts", DataTable)
        if not self.accounts or table.cursor_row >= len(self.accounts) or table.cursor_row < 0:
            return None
        return self.accounts[table.cursor_row]

    def _show_export_account(self) -> None:
        sel = self._selected()
        self.query_one("#export-account", Static).update(
            f"Exports {sel.address}" + (f" ({sel.label})" if sel.label else "") + " — the selected account"
            if sel else "Select an account in the table to export it.")

    def on_data_table_row_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self._show_export_account()
        self._validate("export")

    def on_data_table_row_selected(self, _event: DataTable.RowSelected) -> None:
        self.action_use()

    # -- actions ------------------------------------------------------------------------------
    def action_form(self, form: str) -> None:
        self.query_one("#forms", TabbedContent).active = f"tab-{form}"

    def action_use(self) -> None:
        sel = self._selected()
        if sel is None:
            return
        svc = self.app.services
        try:
            svc.switch_account(sel.address)
        except Exception as exc:  # noqa: BLE001 - e.g. settings.toml not writable
            self.app.log_event("error", f"could not switch account: {describe_failure(exc)}")
            return
        for header in self.app.screen.query(StatusHeader):
            header.set_account(sel.address)
        self.app.log_event("success", f"now acting as {sel.address}" + (f" ({sel.label})" if sel.label else ""))
        self.app.pool_cache.invalidate()
        self.reload()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        form = (event.button.id or "").removesuffix("-submit")
        if form in ("create", "keystore", "key", "export") and self._validate(form):
            values = {i.id: i.value for i in self.query(f"#tab-{form} Input").results(Input)}
            if form == "export":
                values["address"] = self._selected().address
            for input_id in SECRET_INPUTS:  # secrets leave the screen now
                if input_id in values:
                    self.query_one(f"#{input_id}", Input).value = ""
            self.query_one(f"#{form}-result", Notice).say("working…")
            self._run(form, values)

    @work(thread=True, group="wallet-op")
    def _run(self, form: str, values: dict) -> None:
        from chain.wallet import WalletError

        wallet = self.app.services.wallet
        try:
            if form == "create":
                info = wallet.create(values["create-label"])
                self.post_message(WalletDone(form, f"created {info.address}", True, info.address))
            elif form == "key":
                info = wallet.import_hex(values["key-hex"], values["key-label"])
                self.post_message(WalletDone(form, f"imported {info.address}", True, info.address))
            elif form == "keystore":
                path = Path(values["keystore-path"]).expanduser()
                try:
                    data = path.read_bytes()
                except OSError as exc:
                    self.post_message(WalletDone(form, f"cannot read {path}: {exc.strerror}", False))
                    return
                info = wallet.import_keystore(data, values["keystore-pass"], values["keystore-label"])
                self.post_message(WalletDone(form, f"imported {info.address} from {path.name}", True, info.address))
            elif form == "export":
                path = Path(values["export-path"]).expanduser()
                document = wallet.export_keystore(values["address"], values["export-pass"])
                try:
                    with open(path, "x", encoding="utf-8") as fh:  # never overwrite
                        fh.write(document)
                    path.chmod(0o600)
                except OSError as exc:
                    self.post_message(WalletDone(form, f"cannot write {path}: {exc.strerror}", False))
                    return
                self.post_message(WalletDone(form, f"exported {values['address']} to {path}", True))
        except WalletError as exc:
            self.post_message(WalletDone(form, str(exc), False))
        except Exception as exc:  # noqa: BLE001 - never crash; wallet errors never carry key material
            self.post_message(WalletDone(form, f"failed: {type(exc).__name__}", False))

    def on_wallet_done(self, message: WalletDone) -> None:
        self.query_one(f"#{message.form}-result", Notice).say(("✓ " if message.ok else "✗ ") + message.text,
                                                             "ok" if message.ok else "error")
        self.app.log_event("success" if message.ok else "error", f"wallet: {message.text}")
        if message.ok:
            for i in self.query(f"#tab-{message.form} Input").results(Input):
                i.value = ""
            self.reload()
