"""Amounts, percentages and addresses from user text, exactly, and back to text.

Everything on chain is an integer: LPT and ETH in wei (18 decimals), rewardCut/feeShare in parts per
1,000,000. User text is parsed with Decimal, never float, and every way it can be wrong has its own
message saying what to type instead.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

WEI = 10**18
GWEI = 10**9
PERC_DIVISOR = 1_000_000  # rewardCut / feeShare units
_AMOUNT = re.compile(r"^(?P<num>[+-]?(\d+(\.\d*)?|\.\d+))\s*(?P<unit>[A-Za-z]*)$")
UNITS = ("LPT", "ETH")


class InputError(ValueError):
    """User input that cannot be used; the message says what is wrong and what to type instead."""


def parse_amount(text: str, unit: str, *, allow_zero: bool = False) -> int:
    """`"100"`, `"100LPT"`, `"0.5 ETH"`, `"250wei"` → integer wei. `unit` is "LPT" or "ETH".

    Refuses: another unit ("0.5ETH" where LPT is asked), more than 18 decimals, negatives, zero
    (unless allowed), exponents, thousands separators and anything else that is not a plain number.
    """
    unit = unit.upper()
    raw = (text or "").strip()
    example = f"e.g. 100{unit} or 0.5{unit}"
    if not raw:
        raise InputError(f"no amount given; {example}")
    if "," in raw:
        raise InputError(f"{raw!r}: write amounts without commas ('.' is the decimal point); {example}")
    m = _AMOUNT.match(raw)
    if not m:
        if re.search(r"\d[eE][+-]?\d", raw):
            raise InputError(f"{raw!r}: exponents are not accepted, write the number out; {example}")
        raise InputError(f"{raw!r} is not an amount; {example}")
    given_unit = m.group("unit").upper()
    num = m.group("num")
    if num.startswith("-"):
        raise InputError(f"{raw!r}: the amount cannot be negative")
    if given_unit == "WEI":
        if "." in num:
            raise InputError(f"{raw!r}: wei are whole numbers")
        wei = int(num.lstrip("+"))
    else:
        if given_unit and given_unit != unit:
            if given_unit in UNITS:
                raise InputError(f"{raw!r} is in {given_unit}, but this amount is in {unit}; {example}")
            raise InputError(f"{raw!r}: unknown unit {m.group('unit')!r}; use {unit} (or wei); {example}")
        try:
            value = Decimal(num.lstrip("+"))
        except InvalidOperation:
            raise InputError(f"{raw!r} is not an amount; {example}") from None
        decimals = -value.as_tuple().exponent if value.as_tuple().exponent < 0 else 0
        if decimals > 18 and value != value.quantize(Decimal(1).scaleb(-18)):
            raise InputError(f"{raw!r} has more than 18 decimals; {unit} has 18 (the smallest amount is 1 wei)")
        wei = int(value * WEI)
    if wei == 0 and not allow_zero:
        raise InputError(f"{raw!r}: the amount must be greater than zero")
    return wei


def parse_lpt(text: str, **kw) -> int:
    return parse_amount(text, "LPT", **kw)


def parse_eth(text: str, **kw) -> int:
    return parse_amount(text, "ETH", **kw)


def parse_percent(text: str, what: str = "the percentage") -> int:
    """`"10"`, `"10%"`, `"12.5 %"` → parts per 1,000,000 (10% = 100,000). At most 4 decimals, 0–100."""
    raw = (text or "").strip()
    body = raw[:-1].strip() if raw.endswith("%") else raw
    try:
        value = Decimal(body)
    except InvalidOperation:
        raise InputError(f"{what} {raw!r} is not a number; give a percentage such as 10 or 12.5%") from None
    if not value.is_finite():
        raise InputError(f"{what} {raw!r} is not a number; give a percentage such as 10 or 12.5%")
    if value < 0 or value > 100:
        raise InputError(f"{what} {raw!r} must be between 0 and 100 %")
    ppm = value * 10_000
    if ppm != ppm.to_integral_value():
        raise InputError(f"{what} {raw!r} has more than 4 decimals; the protocol counts in 0.0001 % steps")
    return int(ppm)


def parse_address(text: str, what: str = "the address") -> str:
    """A checksummed address from text in any case; a mixed-case text with a bad checksum is refused."""
    from eth_utils import is_checksum_address, is_hex_address, to_checksum_address

    raw = (text or "").strip()
    shown = raw if len(raw) <= 50 else raw[:12] + "…"
    candidate = raw if raw.startswith(("0x", "0X")) else "0x" + raw
    candidate = "0x" + candidate[2:]
    if not is_hex_address(candidate):
        raise InputError(f"{what} {shown!r} is not an Ethereum address: give 0x and 40 hex digits")
    digits = candidate[2:]
    if digits != digits.lower() and digits != digits.upper() and not is_checksum_address(candidate):
        raise InputError(f"{what} {shown!r} has a wrong checksum (mixed case), so it may hold a typo: check it")
    if int(digits, 16) == 0:
        raise InputError(f"{what} is the zero address")
    return to_checksum_address(candidate)


# ------------------------------------------------------------------------------------ formatting


def format_units(wei: int, unit: str = "LPT", *, places: int | None = None) -> str:
    """Exact decimal text: 150000000000000000000 → "150.0 LPT"; `places` rounds down for display."""
    sign = "-" if wei < 0 else ""
    whole, frac = divmod(abs(wei), WEI)
    digits = f"{frac:018d}"
    if places is not None:
        digits = digits[:places]
    digits = digits.rstrip("0") or "0"
    text = f"{sign}{whole:,}.{digits}"
    return f"{text} {unit}" if unit else text


def format_lpt(wei: int, places: int | None = None) -> str:
    return format_units(wei, "LPT", places=places)


def format_eth(wei: int, places: int | None = None) -> str:
    return format_units(wei, "ETH", places=places)


def format_percent(ppm: int) -> str:
    """Parts per million → "12.5%"."""
    text = f"{Decimal(ppm) / 10_000:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}%"


def units(wei: int | float) -> float:
    """Wei as a float number of LPT or ETH, for charts and rounded display (f"{units(w):,.0f}"); never for
    arithmetic: amounts stay integers in wei."""
    return wei / WEI


def format_gwei(wei: int | float) -> str:
    """A gas price in gwei to 6 significant digits: 1_500_000_000 → "1.5 gwei"."""
    return f"{wei / GWEI:g} gwei"


def short_address(address: str | None, empty: str = "—") -> str:
    """0x1234…abcd for an address (0x and 40 characters); any other text as it is; `empty` for none."""
    if not address:
        return empty
    return f"{address[:6]}…{address[-4:]}" if len(address) == 42 and address.startswith("0x") else address


def clip(text: str | None, width: int) -> str:
    """Text cut to `width` characters, the last one "…" when cut (an address or id in a table column)."""
    text = text or ""
    return text if len(text) <= width else text[: width - 1] + "…"


def short_hash(tx_hash: str | None) -> str:
    """0x1234567890…cdef for a transaction hash (text of 18 characters or fewer as it is); "—" for none."""
    if not tx_hash:
        return "—"
    return tx_hash if len(tx_hash) <= 18 else f"{tx_hash[:12]}…{tx_hash[-4:]}"
