"""`lpc wallet`: accounts whose private keys live only in the OS keyring.

Secrets never come from argv: a hex key is read from stdin (when piped) or a hidden prompt, and a
passphrase from a hidden prompt or `--passphrase-file`. Every failure ends in one line saying what
to do, never a traceback.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path

import click

from chain.wallet import AccountInfo, Wallet, WalletError
from console.context import CliContext
from core.settings import SettingsError, write_setting

SECRET_FILE_MAX_BYTES = 64 * 1024


def open_wallet() -> Wallet:
    """The wallet on the platform keyring (tests replace this to choose a cheaper scrypt factor)."""
    return Wallet()


def _clear_errors(func):
    """Wallet and file errors become one-line ClickExceptions."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except WalletError as exc:
            raise click.ClickException(str(exc)) from None
        except SettingsError as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper


def _read_small_file(path: str, what: str) -> bytes:
    p = Path(path).expanduser()
    try:
        if p.is_dir():
            raise click.ClickException(f"{p} is a folder; give the {what} file")
        with p.open("rb") as f:
            data = f.read(SECRET_FILE_MAX_BYTES + 1)
    except OSError as exc:
        raise click.ClickException(f"cannot read the {what} {p}: {exc.strerror or exc}") from None
    if len(data) > SECRET_FILE_MAX_BYTES:
        raise click.ClickException(f"the {what} {p} is larger than {SECRET_FILE_MAX_BYTES // 1024} KiB; is it the right file?")
    return data


def _passphrase_from_file(path: str) -> str:
    """The first line of the file, as geth's --password file is read."""
    data = _read_small_file(path, "passphrase file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise click.ClickException(f"the passphrase file {path} is not UTF-8 text") from None
    lines = text.splitlines()
    return lines[0] if lines else ""


def _stdin_is_tty() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def _read_hex_key() -> str:
    if _stdin_is_tty():
        return click.prompt("Private key (hex, input hidden)", hide_input=True, default="", show_default=False)
    if sys.stdin is None:
        return ""
    return sys.stdin.read(1024)


def _account_line(info: AccountInfo, default: str | None) -> str:
    mark = "*" if default and info.address.lower() == default.lower() else " "
    created = info.created.strftime("%Y-%m-%d %H:%M UTC")
    return f"{mark} {info.address}  {created}  {info.label}".rstrip()


def _default_account(obj: CliContext) -> str | None:
    """The configured default account. An invalid settings file must not stop the listing: it is named
    in one line on stderr (and `use` refuses to write over it)."""
    try:
        return obj.settings.account
    except click.ClickException as exc:
        click.echo(f"note: the default account is unknown, {exc.message}", err=True)
        return None


@click.group()
def wallet() -> None:
    """Manage accounts; private keys live only in the OS keyring."""


@wallet.command()
@click.option("--label", default=None, help="A name to recognise the account by.")
@_clear_errors
def new(label: str | None) -> None:
    """Create an account with a new random key, kept in the OS keyring."""
    info = open_wallet().create(label=label)
    click.echo(info.address)
    click.echo("Back its key up with `lpc wallet export`: without a copy it is lost with this keyring.", err=True)


@wallet.command(name="import")
@click.option("--keystore", "keystore_path", metavar="FILE", default=None, help="A geth / go-livepeer JSON keystore file.")
@click.option(
    "--passphrase-file",
    metavar="FILE",
    default=None,
    help="Read the keystore passphrase from the first line of FILE instead of a prompt.",
)
@click.option("--label", default=None, help="A name to recognise the account by.")
@_clear_errors
def import_(keystore_path: str | None, passphrase_file: str | None, label: str | None) -> None:
    """Import a private key into the OS keyring.

    With --keystore, from a JSON keystore and its passphrase. Otherwise the key is read as hex from
    stdin when it is piped, or from a hidden prompt; never give it as an argument.
    """
    wallet_ = open_wallet()
    if keystore_path is None:
        if passphrase_file is not None:
            raise click.ClickException("--passphrase-file only applies with --keystore; a hex key has no passphrase")
        info = wallet_.import_hex(_read_hex_key(), label=label)
    else:
        data = _read_small_file(keystore_path, "keystore")
        if passphrase_file is not None:
            passphrase = _passphrase_from_file(passphrase_file)
        else:
            passphrase = click.prompt("Keystore passphrase", hide_input=True, default="", show_default=False)
        info = wallet_.import_keystore(data, passphrase, label=label)
    click.echo(info.address)


@wallet.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@click.pass_obj
@_clear_errors
def list_(obj: CliContext, as_json: bool) -> None:
    """List the accounts in the keyring (* marks the default account)."""
    accounts = open_wallet().list()
    default = _default_account(obj)
    if as_json:
        rows = [
            {**a.to_json(), "default": bool(default) and a.address.lower() == default.lower()} for a in accounts
        ]
        click.echo(json.dumps(rows, indent=2))
        return
    if not accounts:
        click.echo("No accounts. Create one with `lpc wallet new` or add one with `lpc wallet import`.")
        return
    for info in accounts:
        click.echo(_account_line(info, default))


@wallet.command()
@click.argument("address")
@click.option("--out", "out", metavar="FILE", required=True, help="Where to write the JSON keystore (mode 0600).")
@click.option("--passphrase-file", metavar="FILE", default=None, help="Read the new passphrase from the first line of FILE.")
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
@_clear_errors
def export(address: str, out: str, passphrase_file: str | None, force: bool) -> None:
    """Write an account's key as a JSON keystore (scrypt) that geth and go-livepeer can read."""
    wallet_ = open_wallet()
    info = wallet_.get(address)
    target = Path(out).expanduser()
    if target.is_dir():
        raise click.ClickException(f"{target} is a folder; give a file name for the keystore")
    if target.exists() and not force:
        raise click.ClickException(f"{target} already exists; choose another file or pass --force to overwrite it")
    if not target.parent.is_dir():
        raise click.ClickException(f"the folder {target.parent} does not exist")
    if passphrase_file is not None:
        passphrase = _passphrase_from_file(passphrase_file)
    else:
        passphrase = click.prompt("New keystore passphrase", hide_input=True, confirmation_prompt=True)
    document = wallet_.export_keystore(info.address, passphrase)
    _write_private(target, document)
    click.echo(f"Wrote the keystore of {info.address} to {target}")


def _write_private(target: Path, text: str) -> None:
    """Write through a 0600 temporary file in the same folder, then rename over the target."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, text.encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise click.ClickException(f"cannot write {target}: {exc.strerror or exc}") from None


@wallet.command()
@click.argument("address")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
@_clear_errors
def remove(obj: CliContext, address: str, yes: bool) -> None:
    """Delete an account's key from the keyring (gone for good unless exported)."""
    wallet_ = open_wallet()
    info = wallet_.get(address)
    if not yes:
        named = f" ({info.label})" if info.label else ""
        click.confirm(
            f"Remove {info.address}{named} from the keyring? Its key is lost unless you exported it",
            abort=True,
        )
    wallet_.remove(info.address)
    click.echo(f"Removed {info.address}")
    default = _default_account(obj)
    if default and default.lower() == info.address.lower():
        click.echo("It was the default account: choose another with `lpc wallet use ADDRESS`.", err=True)


@wallet.command()
@click.argument("address")
@click.pass_obj
@_clear_errors
def use(obj: CliContext, address: str) -> None:
    """Make ADDRESS the default account (saved in the data dir's settings.toml)."""
    info = open_wallet().get(address)
    try:
        write_setting(obj.data_path, "account", info.address)
    except OSError as exc:
        raise click.ClickException(f"cannot save the setting: {exc.strerror or exc}") from None
    except ValueError as exc:  # pydantic refused the resulting settings file
        raise click.ClickException(f"cannot save the setting, the settings file is invalid: {_one_line(exc)}") from None
    click.echo(f"Default account: {info.address}")


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:300]


__all__ = ["wallet"]
