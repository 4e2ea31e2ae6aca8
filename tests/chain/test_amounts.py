"""User text to exact integers (and back): every malformed input has its own clear error."""

from __future__ import annotations

import pytest

from chain.amounts import (
    InputError,
    format_eth,
    format_lpt,
    format_percent,
    parse_address,
    parse_eth,
    parse_lpt,
    parse_percent,
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
