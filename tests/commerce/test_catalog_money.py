"""Money as integer minor units, converted exactly and rounded half up."""

from __future__ import annotations

from decimal import Decimal

import pytest

from konversation.commerce.money import (
    InvalidAmount,
    exponent,
    format_amount,
    from_minor,
    to_decimal,
    to_minor,
)


@pytest.mark.parametrize(
    ("currency", "places"),
    [("USD", 2), ("eur", 2), ("JPY", 0), ("KRW", 0), ("KWD", 3), ("BHD", 3), ("OMR", 3),
     ("JOD", 3), ("TND", 3), ("CLF", 4), ("XYZ", 2)],
)  # fmt: skip
def test_the_exponent_comes_from_iso_4217(currency: str, places: int) -> None:
    assert exponent(currency) == places


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        (Decimal("12.99"), "USD", 1299),
        (12.99, "USD", 1299),  # the float's shortest text, not its binary neighbour
        ("12.99", "USD", 1299),
        (13, "USD", 1300),
        (0.1 + 0.2, "USD", 30),
        ("1.005", "USD", 101),  # half up, not half even
        ("1.015", "USD", 102),
        ("2.5", "JPY", 3),
        ("1500.4", "JPY", 1500),
        ("1.2345", "KWD", 1235),
        ("-1.005", "USD", -101),  # half away from zero
        (" 7.10 ", "USD", 710),
        ("1e2", "USD", 10000),
    ],
)
def test_to_minor(amount: Decimal | int | float | str, currency: str, minor: int) -> None:
    assert to_minor(amount, currency) == minor


@pytest.mark.parametrize(
    ("minor", "currency", "amount", "text"),
    [
        (1299, "USD", Decimal("12.99"), "12.99"),
        (5, "USD", Decimal("0.05"), "0.05"),
        (1500, "JPY", Decimal("1500"), "1500"),
        (12990, "KWD", Decimal("12.990"), "12.990"),
        (0, "USD", Decimal("0.00"), "0.00"),
    ],
)
def test_from_minor_keeps_the_currencys_places(
    minor: int, currency: str, amount: Decimal, text: str
) -> None:
    assert from_minor(minor, currency) == amount
    assert format_amount(minor, currency) == text


@pytest.mark.parametrize("value", ["", "twelve", "NaN", "Infinity", float("inf"), True, None])
def test_refuses_what_is_not_an_amount(value: object) -> None:
    with pytest.raises(InvalidAmount):
        to_decimal(value)  # type: ignore[arg-type]


def test_round_trips_every_cent_of_a_range() -> None:
    for minor in range(-1000, 100_000, 7):
        assert to_minor(from_minor(minor, "USD"), "USD") == minor
        assert to_minor(float(from_minor(minor, "USD")), "USD") == minor
