"""User text to exact integers (and back): every malformed input has its own clear error."""

from __future__ import annotations

import pytest

from chain.amounts import (
    InputError,
    clip,
    format_eth,
    format_gwei,
    format_lpt,
    format_percent,
    format_units,
    parse_address,
    parse_eth,
    parse_lpt,
    parse_percent,
    short_address,
    short_hash,
    units,
)


@pytest.mark.parametrize("text, wei", [
    ("100", 100 * 10**18), ("100LPT", 100 * 10**18), ("100 lpt", 100 * 10**18), (".5", 5 * 10**17),
    ("0.000000000000000001", 1), ("1.100000000000000000", 11 * 10**17), ("250wei", 250),
    ("123456789.123456789123456789", 123456789123456789123456789),
])
def test_amounts_parse_exactly(text, wei):
    assert parse_lpt(text) == wei


@pytest.mark.parametrize("text, words", [
    ("0.5ETH", "is in ETH, but this amount is in LPT"),
    ("1.0000000000000000001", "more than 18 decimals"),
    ("-5", "cannot be negative"),
    ("1,000", "without commas"),
    ("1e18", "exponents are not accepted"),
    ("ten", "is not an amount"),
    ("0", "must be greater than zero"),
    ("5 DAI", "unknown unit"),
    ("1.5wei", "whole numbers"),
    ("", "no amount given"),
])
def test_bad_amounts_say_what_is_wrong(text, words):
    with pytest.raises(InputError, match=words):
        parse_lpt(text)


def test_eth_amounts_and_zero_when_allowed():
    assert parse_eth("0.5ETH") == 5 * 10**17
    assert parse_lpt("0", allow_zero=True) == 0
    with pytest.raises(InputError, match="is in LPT"):
        parse_eth("3LPT")


@pytest.mark.parametrize("text, ppm", [("10", 100_000), ("12.5%", 125_000), ("0.0001", 1), ("100 %", 1_000_000)])
def test_percentages(text, ppm):
    assert parse_percent(text) == ppm


@pytest.mark.parametrize("text, words", [("101", "between 0 and 100"), ("-1", "between 0 and 100"),
                                         ("0.00001", "more than 4 decimals"), ("ten", "not a number")])
def test_bad_percentages(text, words):
    with pytest.raises(InputError, match=words):
        parse_percent(text, "--reward-cut")


def test_addresses():
    lower = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"
    assert parse_address(lower) == "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
    with pytest.raises(InputError, match="wrong checksum"):
        parse_address("0x70997970C51812DC3a010C7d01b50e0d17dc79C8")
    with pytest.raises(InputError, match="not an Ethereum address"):
        parse_address("0x1234")
    with pytest.raises(InputError, match="zero address"):
        parse_address("0x" + "0" * 40)


def test_formatting_is_exact():
    assert format_lpt(150 * 10**18) == "150.0 LPT"
    assert format_lpt(1) == "0.000000000000000001 LPT"
    assert format_lpt(1_234_567 * 10**18 + 5 * 10**17) == "1,234,567.5 LPT"
    assert format_eth(123456789 * 10**12, places=4) == "123.4567 ETH"
    assert format_percent(125_000) == "12.5%" and format_percent(100_000) == "10%"


ADDRESS = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
TX_HASH = "0x" + "ab" * 30 + "cdef"


def test_one_way_to_shorten_addresses_hashes_and_cells():
    assert short_address(ADDRESS) == "0x7099…79C8"
    assert short_address(None) == "—" and short_address("", "nobody") == "nobody"
    assert short_address("12345") == "12345"  # not an address: as it is (an event argument, a round)
    assert short_address("0x" + "1" * 41) == "0x" + "1" * 41  # 43 characters: not an address
    assert short_hash(TX_HASH) == "0xababababab…cdef" and short_hash("0x1234") == "0x1234" and short_hash(None) == "—"
    assert clip(ADDRESS, 13) == "0x70997970C5…" and len(clip(ADDRESS, 13)) == 13
    assert clip("short", 14) == "short" and clip(None, 5) == ""


def test_display_numbers_of_wei_and_gwei():
    assert units(1_500_000_000_000_000_000) == 1.5 and f"{units(1234 * 10**18):,.0f}" == "1,234"
    assert format_gwei(1_500_000_000) == "1.5 gwei" and format_gwei(7) == "7e-09 gwei"
    assert format_units(1_234_567_890_123_456_789, "", places=6) == "1.234567"  # no unit: a table cell
