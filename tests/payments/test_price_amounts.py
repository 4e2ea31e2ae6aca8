"""Prices as operators type them (go-livepeer's -pricePerUnit: wei, or `0.5USD` through a price feed):
what is accepted, what is refused with which words, and how a price book stores a currency price
(an older database, whose prices are all wei, is upgraded in place)."""

from __future__ import annotations

import sqlite3
from fractions import Fraction

import pytest
from alembic import command

from core.payments.pricing import PriceAmount, PriceBook, PriceEntry, PriceError, parse_pixels, parse_price
from core.store.db import alembic_config, open_store


@pytest.mark.parametrize(("text", "value", "currency"), [
    ("1200", 1200, "WEI"), (" 1200 wei ", 1200, "WEI"), ("0", 0, "WEI"), (1200, 1200, "WEI"),
    ("0.5USD", Fraction(1, 2), "USD"), ("0.5 usd", Fraction(1, 2), "USD"), ("5e-1USD", Fraction(1, 2), "USD"),
    (".25USD", Fraction(1, 4), "USD"), ("1.5gwei", 1_500_000_000, "WEI"), ("2e-15ETH", 2000, "WEI"),
])
def test_accepted_prices(text, value, currency):
    assert parse_price(text) == PriceAmount(Fraction(value), currency)


@pytest.mark.parametrize(("text", "words"), [
    ("-1", "cannot be negative"), ("abc", "give wei (1200), or an amount and a currency"),
    ("0.5", "not a whole number of wei (0.5 wei)"), ("1e-20ETH", "not a whole number of wei"),
    ("0.5U", "'U' is not a currency"), ("12,5USD", "is not a price"), ("1e99999USD", "out of range"),
])
def test_refused_prices_say_why(text, words):
    with pytest.raises(PriceError) as err:
        parse_price(text)
    assert words in str(err.value)


def test_pixels_per_unit_are_whole_numbers():
    assert parse_pixels("1e6") == parse_pixels("1000000") == 10**6
    for bad in ("0", "1.5", "x", "1e-3", "", "inf", "1e99"):
        with pytest.raises(PriceError, match="whole number ≥ 1"):
            parse_pixels(bad)


def test_a_currency_price_is_stored_as_given_and_refused_without_a_rate(tmp_path):
    store = open_store(tmp_path)
    book = PriceBook(store)  # a price book edited while the node is stopped: no feed to ask
    book.set(parse_price("0.5USD"), 10**6)
    entry = PriceBook(store).entry()
    assert (entry.currency, entry.price_per_unit, entry.pixels_per_unit) == ("USD", Fraction(1, 2), 10**6)
    with pytest.raises(PriceError, match="needs an ETH/USD price feed"):
        entry.wei_per_pixel(None)
    assert PriceEntry("", 1200, 2).per_pixel == 600
    store.close()


def test_an_older_database_keeps_its_wei_prices_as_wei(tmp_path):
    store = open_store(tmp_path)
    cfg = alembic_config(f"sqlite:///{store.path}")
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0002")
    conn = sqlite3.connect(store.path)
    conn.execute("INSERT INTO prices (sender, price_per_unit, pixels_per_unit) VALUES ('', '1200', '3')")
    conn.commit()
    conn.close()
    store.close()
    again = open_store(tmp_path)  # upgraded to head on open
    assert PriceBook(again).entry() == PriceEntry("", 1200, 3, "WEI")
    assert PriceBook(again).base() == 400
    again.close()


def test_a_runtime_price_survives_restarts_until_the_configured_price_changes(tmp_path):
    store = open_store(tmp_path)
    flags = PriceEntry("", 1000, 1)
    PriceBook(store, default=flags).set(5)  # changed at runtime (API, console)
    assert PriceBook(store, default=flags).base() == 5  # restarted with the same flags: kept
    assert PriceBook(store, default=PriceEntry("", Fraction(1, 2), 10**6, "USD")).entry().currency == "USD"
    assert PriceBook(store, default=PriceEntry("", 2000, 1)).base() == 2000  # the operator edited the flag
    store.close()
