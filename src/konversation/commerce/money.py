"""Money as integer minor units, converted exactly through `Decimal` (never through floats).

Amounts arrive on the API as JSON numbers or strings ("12.99", 12.99, 13) and are stored as
integers in the currency's smallest unit: 1299 cents, 13 yen, 12990 fils. The number of
decimal places comes from ISO 4217.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# ISO 4217 minor-unit exponents that differ from the usual two decimal places.
_EXPONENTS: dict[str, int] = {
    **dict.fromkeys(
        [
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "UYI",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ],
        0,
    ),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
    "CLF": 4,
    "UYW": 4,
}


class InvalidAmount(ValueError):
    """The value cannot be read as an amount of money."""


def exponent(currency: str) -> int:
    """How many decimal places `currency` has (2 unless ISO 4217 says otherwise)."""
    return _EXPONENTS.get(currency.upper(), 2)


def to_decimal(value: Decimal | int | float | str) -> Decimal:
    """An amount as an exact `Decimal`.

    A float (a JSON number with a fraction) goes through its shortest decimal text, so 12.99
    becomes Decimal("12.99") and not the binary neighbour 12.9899999999999984...
    """
    if isinstance(value, bool):
        raise InvalidAmount("a boolean is not an amount")
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, float | str):
        try:
            amount = Decimal(str(value).strip())
        except InvalidOperation as exc:
            raise InvalidAmount(f"{value!r} is not a number") from exc
    else:
        raise InvalidAmount(f"{value!r} is not a number")
    if not amount.is_finite():
        raise InvalidAmount(f"{value!r} is not a finite number")
    return amount


def to_minor(value: Decimal | int | float | str, currency: str) -> int:
    """`value` in `currency`'s minor units, rounded half up to the nearest unit."""
    quantum = Decimal(1).scaleb(-exponent(currency))
    rounded = to_decimal(value).quantize(quantum, rounding=ROUND_HALF_UP)
    return int(rounded.scaleb(exponent(currency)))


def from_minor(minor: int, currency: str) -> Decimal:
    """Minor units back to a `Decimal` with the currency's number of places (1299 -> 12.99)."""
    places = exponent(currency)
    return Decimal(minor).scaleb(-places).quantize(Decimal(1).scaleb(-places))


def format_amount(minor: int, currency: str) -> str:
    """A plain decimal text such as "12.99" (JPY: "13"), for display and string fields."""
    return str(from_minor(minor, currency))
