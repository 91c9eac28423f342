"""Discount codes: a percentage, a fixed amount or free shipping, within a validity window.

Times cross the API as "YYYY-MM-DD HH:MM:SS" in the workspace's timezone and are stored in
UTC. Amounts are in the workspace's currency and stored as minor units.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, fields
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from konversation.commerce import money
from konversation.commerce.catalog import Shop
from konversation.commerce.models import DiscountCode, DiscountType, MinRequire
from konversation.db import PageRequest, contains_text, fetch_page
from konversation.errors import Invalid, NotFound

NOT_FOUND = "Discount code not found"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_ACCEPTED_TIME_FORMATS = (TIME_FORMAT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M")


@dataclass
class DiscountFields:
    """What a caller sets on a code; None leaves a value as it is."""

    code: str | None = None
    type: str | None = None
    discount_percentage: int | None = None
    discount_amount: Decimal | None = None
    once_per_order: bool | None = None
    min_require: str | None = None
    min_price: Decimal | None = None
    min_qty: int | None = None
    has_usage_limit: bool | None = None
    max_usage_count: int | None = None
    one_per_customer: bool | None = None
    start_time: str | None = None
    end_time: str | None = None


async def list_codes(
    session: AsyncSession, workspace_id: int, *, code: str | None, window: PageRequest
) -> tuple[Sequence[DiscountCode], int]:
    query = (
        select(DiscountCode)
        .where(DiscountCode.workspace_id == workspace_id)
        .order_by(DiscountCode.id)
    )
    if code:
        query = query.where(contains_text(DiscountCode.code, code))
    return await fetch_page(session, query, window)


async def get_code(session: AsyncSession, workspace_id: int, code_id: int) -> DiscountCode:
    found = await session.scalar(
        select(DiscountCode).where(
            DiscountCode.workspace_id == workspace_id, DiscountCode.id == code_id
        )
    )
    if found is None:
        raise NotFound(NOT_FOUND)
    return found


async def find_code(session: AsyncSession, workspace_id: int, code: str) -> DiscountCode | None:
    """The workspace's code spelled exactly `code` (surrounding spaces aside), if any."""
    return await session.scalar(
        select(DiscountCode).where(
            DiscountCode.workspace_id == workspace_id, DiscountCode.code == code.strip()
        )
    )


async def get_code_by_code(session: AsyncSession, workspace_id: int, code: str) -> DiscountCode:
    found = await find_code(session, workspace_id, code)
    if found is None:
        raise NotFound(NOT_FOUND)
    return found


async def create_code(session: AsyncSession, shop: Shop, given: DiscountFields) -> DiscountCode:
    missing = {
        name: [f"The {name} field is required."]
        for name in ("code", "type", "start_time", "end_time")
        if not (getattr(given, name) or "").strip()
    }
    if missing:
        raise Invalid(missing)
    discount = DiscountCode(
        workspace_id=shop.workspace_id,
        discount_percentage=0,
        discount_amount_minor=0,
        once_per_order=False,
        min_require=MinRequire.NONE,
        min_price_minor=0,
        min_qty=0,
        has_usage_limit=False,
        max_usage_count=0,
        usage_count=0,
        one_per_customer=False,
    )
    await _apply(session, shop, discount, given)
    session.add(discount)
    await session.flush()
    return discount


async def update_code(
    session: AsyncSession, shop: Shop, code_id: int, given: DiscountFields
) -> DiscountCode:
    discount = await get_code(session, shop.workspace_id, code_id)
    await _apply(session, shop, discount, given)
    await session.flush()
    return discount


async def delete_code(session: AsyncSession, workspace_id: int, code_id: int) -> None:
    """Delete a code; orders that used it keep the code's text."""
    await session.delete(await get_code(session, workspace_id, code_id))
    await session.flush()


async def delete_code_by_code(session: AsyncSession, workspace_id: int, code: str) -> None:
    await session.delete(await get_code_by_code(session, workspace_id, code))
    await session.flush()


async def _apply(
    session: AsyncSession, shop: Shop, discount: DiscountCode, given: DiscountFields
) -> None:
    """Copy what was given onto `discount`, then check the code as a whole."""
    errors: dict[str, list[str]] = {}
    if given.code is not None:
        code = given.code.strip()
        if not code:
            errors["code"] = ["The code field is required."]
        elif code != discount.code and await find_code(session, shop.workspace_id, code):
            errors["code"] = ["The code has already been taken."]
        discount.code = code
    for name in ("start_time", "end_time"):
        text = getattr(given, name)
        if text is not None:
            try:
                setattr(discount, name, parse_time(text, shop.zone))
            except ValueError:
                errors[name] = [f"The {name} field must match the format Y-m-d H:i:s."]
    _copy_plain(discount, given)
    if given.discount_amount is not None:
        discount.discount_amount_minor = money.to_minor(given.discount_amount, shop.currency)
    if given.min_price is not None:
        discount.min_price_minor = money.to_minor(given.min_price, shop.currency)
    errors.update(_whole_code_errors(discount, errors))
    if errors:
        raise Invalid(errors)
    _clear_unused(discount)


def _copy_plain(discount: DiscountCode, given: DiscountFields) -> None:
    plain = {"type", "discount_percentage", "once_per_order", "min_require", "min_qty"}
    plain |= {"has_usage_limit", "max_usage_count", "one_per_customer"}
    for item in fields(given):
        value = getattr(given, item.name)
        if item.name in plain and value is not None:
            setattr(discount, item.name, value)


def _whole_code_errors(discount: DiscountCode, known: dict[str, list[str]]) -> dict[str, list[str]]:
    """What is wrong with the code's fields taken together."""
    errors: dict[str, list[str]] = {}
    if discount.type == DiscountType.PERCENTAGE and not discount.discount_percentage:
        errors["discount_percentage"] = [
            "The discount_percentage field is required when type is percentage."
        ]
    if discount.type == DiscountType.AMOUNT and not discount.discount_amount_minor:
        errors["discount_amount"] = ["The discount_amount field is required when type is amount."]
    if discount.min_require == MinRequire.PRICE and not discount.min_price_minor:
        errors["min_price"] = ["The min_price field is required when min_require is price."]
    if discount.min_require == MinRequire.QTY and not discount.min_qty:
        errors["min_qty"] = ["The min_qty field is required when min_require is qty."]
    if discount.has_usage_limit and not discount.max_usage_count:
        errors["max_usage_count"] = [
            "The max_usage_count field is required when has_usage_limit is 1."
        ]
    times_known = "start_time" not in known and "end_time" not in known
    if times_known and discount.end_time <= discount.start_time:
        errors["end_time"] = ["The end_time field must be a date after start_time."]
    return errors


def _clear_unused(discount: DiscountCode) -> None:
    """Zero the settings the code's type and requirements make meaningless."""
    if discount.type != DiscountType.PERCENTAGE:
        discount.discount_percentage = 0
    if discount.type != DiscountType.AMOUNT:
        discount.discount_amount_minor = 0
        discount.once_per_order = False
    if discount.min_require != MinRequire.PRICE:
        discount.min_price_minor = 0
    if discount.min_require != MinRequire.QTY:
        discount.min_qty = 0
    if not discount.has_usage_limit:
        discount.max_usage_count = 0


def parse_time(text: str, zone: dt.tzinfo) -> dt.datetime:
    """A wall-clock time in `zone` ("2022-12-25 00:00:00") as an aware datetime."""
    for layout in _ACCEPTED_TIME_FORMATS:
        try:
            return dt.datetime.strptime(text.strip(), layout).replace(tzinfo=zone)
        except ValueError:
            continue
    raise ValueError(f"not a time: {text!r}")


def format_time(moment: dt.datetime, zone: dt.tzinfo) -> str:
    return moment.astimezone(zone).strftime(TIME_FORMAT)


def is_active(discount: DiscountCode, at: dt.datetime) -> bool:
    """Whether `at` falls within the code's validity window (start included, end excluded)."""
    return discount.start_time <= at < discount.end_time


def is_exhausted(discount: DiscountCode) -> bool:
    return discount.has_usage_limit and discount.usage_count >= discount.max_usage_count


def describe(discount: DiscountCode, shop: Shop) -> str:
    """One line a person can read, such as "10% off the order; minimum purchase of 50.00 USD"."""
    parts = [_what(discount, shop)]
    if discount.min_require == MinRequire.PRICE:
        parts.append(f"minimum purchase of {_price(discount.min_price_minor, shop)}")
    elif discount.min_require == MinRequire.QTY:
        parts.append(f"minimum of {discount.min_qty} item{'s' if discount.min_qty != 1 else ''}")
    if discount.has_usage_limit:
        uses = discount.max_usage_count
        parts.append(f"limited to {uses} use{'s' if uses != 1 else ''}")
    if discount.one_per_customer:
        parts.append("one use per customer")
    zone = shop.zone
    window = f"{format_time(discount.start_time, zone)} to {format_time(discount.end_time, zone)}"
    parts.append(f"valid from {window}")
    return "; ".join(parts)


def _what(discount: DiscountCode, shop: Shop) -> str:
    if discount.type == DiscountType.PERCENTAGE:
        return f"{discount.discount_percentage}% off the order"
    if discount.type == DiscountType.AMOUNT:
        per = "the order" if discount.once_per_order else "each item"
        return f"{_price(discount.discount_amount_minor, shop)} off {per}"
    return "free shipping"


def _price(minor: int, shop: Shop) -> str:
    return f"{money.format_amount(minor, shop.currency)} {shop.currency.upper()}"
