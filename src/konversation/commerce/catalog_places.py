"""Where and when the shop serves: its locations and its weekly business hours."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from konversation.commerce.models import BusinessHours, DayOption, ShopLocation
from konversation.db import PageRequest
from konversation.errors import Invalid
from konversation.workspaces.items import WorkspaceItems

LOCATION_NOT_FOUND = "Location not found"
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# ---------------------------------------------------------------------------------------------
# Locations


@dataclass
class LocationFields:
    """What a caller sets on a location; None leaves a value as it is."""

    name: str | None = None
    address: str | None = None
    note: str | None = None
    lat: float | None = None
    lng: float | None = None


LOCATIONS = WorkspaceItems(ShopLocation, ShopLocation.id, LOCATION_NOT_FOUND)


async def list_locations(
    session: AsyncSession, workspace_id: int, *, name: str | None, window: PageRequest
) -> tuple[Sequence[ShopLocation], int]:
    return await LOCATIONS.page(session, workspace_id, name=name, window=window)


async def get_location(session: AsyncSession, workspace_id: int, location_id: int) -> ShopLocation:
    return await LOCATIONS.get(session, workspace_id, location_id)


async def create_location(
    session: AsyncSession, workspace_id: int, given: LocationFields
) -> ShopLocation:
    missing = {
        name: [f"The {name} field is required."]
        for name in ("name", "address", "lat", "lng")
        if getattr(given, name) is None
        or (isinstance(getattr(given, name), str) and not getattr(given, name).strip())
    }
    if missing:
        raise Invalid(missing)
    location = ShopLocation(workspace_id=workspace_id)
    _apply_location(location, given)
    session.add(location)
    await session.flush()
    return location


async def update_location(
    session: AsyncSession, workspace_id: int, location_id: int, given: LocationFields
) -> ShopLocation:
    location = await get_location(session, workspace_id, location_id)
    for name in ("name", "address"):
        value = getattr(given, name)
        if value is not None and not value.strip():
            raise Invalid.field(name, f"The {name} field is required.")
    _apply_location(location, given)
    await session.flush()
    return location


def _apply_location(location: ShopLocation, given: LocationFields) -> None:
    if given.name is not None:
        location.name = given.name.strip()
    if given.address is not None:
        location.address = given.address.strip()
    if given.note is not None:
        location.note = given.note
    if given.lat is not None:
        location.lat = given.lat
    if given.lng is not None:
        location.lng = given.lng


async def delete_location(session: AsyncSession, workspace_id: int, location_id: int) -> None:
    await session.delete(await get_location(session, workspace_id, location_id))
    await session.flush()


# ---------------------------------------------------------------------------------------------
# Business hours


@dataclass(frozen=True)
class Day:
    """One weekday's hours: `option` says which of the spans apply (see DayOption)."""

    day: int
    option: str
    start: str | None = None
    end: str | None = None
    start_2: str | None = None
    end_2: str | None = None

    @property
    def name(self) -> str:
        return DAY_NAMES[self.day - 1]


@dataclass
class DayChange:
    """A caller's change to one day, named by `id` ("1" is Monday) or by `name`, or both."""

    id: str | None = None
    name: str | None = None
    option: str | None = None
    start: str | None = None
    end: str | None = None
    start_2: str | None = None
    end_2: str | None = None


# A workspace that never set its hours is open all day, every day.
DEFAULT_OPTION = DayOption.OPEN


async def business_hours(session: AsyncSession, workspace_id: int) -> list[Day]:
    """All seven days, Monday first."""
    stored = {
        row.day: row
        for row in await session.scalars(
            select(BusinessHours).where(BusinessHours.workspace_id == workspace_id)
        )
    }
    return [
        _day_of(stored[n]) if n in stored else Day(day=n, option=DEFAULT_OPTION)
        for n in range(1, 8)
    ]


def _day_of(row: BusinessHours) -> Day:
    return Day(row.day, row.option, row.start, row.end, row.start_2, row.end_2)


async def update_business_hours(
    session: AsyncSession, workspace_id: int, changes: Sequence[DayChange]
) -> list[Day]:
    """Change the days named in `changes`; the others keep their hours."""
    if not changes:
        raise Invalid.field("data", "The data field is required.")
    current = {day.day: day for day in await business_hours(session, workspace_id)}
    errors: dict[str, list[str]] = {}
    changed: dict[int, tuple[int, Day]] = {}
    for index, change in enumerate(changes):
        where = f"data.{index}"
        try:
            number = _day_number(change, where)
            if number in changed:
                raise Invalid.field(
                    where, f"The {where} field repeats data.{changed[number][0]}'s day."
                )
            day = _merged(current[number], change)
            _check_day(day, where)
        except Invalid as invalid:
            errors.update(invalid.errors)
            continue
        changed[number] = (index, day)
    if errors:
        raise Invalid(errors)
    for _, day in changed.values():
        await _store(session, workspace_id, day)
        current[day.day] = day
    return [current[n] for n in range(1, 8)]


def _day_number(change: DayChange, where: str) -> int:
    by_id = by_name = None
    if change.id is not None and change.id.strip():
        text = change.id.strip()
        if text not in {str(n) for n in range(1, 8)}:
            raise Invalid.field(f"{where}.id", f"The selected {where}.id is invalid.")
        by_id = int(text)
    if change.name is not None and change.name.strip():
        names = [name.lower() for name in DAY_NAMES]
        if change.name.strip().lower() not in names:
            raise Invalid.field(f"{where}.name", f"The selected {where}.name is invalid.")
        by_name = names.index(change.name.strip().lower()) + 1
    if by_id is None and by_name is None:
        raise Invalid.field(
            f"{where}.id", f"The {where}.id field is required when {where}.name is not present."
        )
    if by_id is None:
        assert by_name is not None
        return by_name
    if by_name is not None and by_id != by_name:
        raise Invalid.field(f"{where}.name", f"The {where}.name field does not match {where}.id.")
    return by_id


def _merged(day: Day, change: DayChange) -> Day:
    def pick(name: str) -> str | None:
        given: str | None = getattr(change, name)
        return getattr(day, name) if given is None else (given.strip() or None)

    return Day(
        day=day.day,
        option=change.option or day.option,
        start=pick("start"),
        end=pick("end"),
        start_2=pick("start_2"),
        end_2=pick("end_2"),
    )


def _check_day(day: Day, where: str) -> None:
    """The spans the day's option uses must be real quarter-hour times, in order."""
    spans = {DayOption.OPEN_1: 1, DayOption.OPEN_2: 2}.get(DayOption(day.option), 0)
    names = ("start", "end", "start_2", "end_2")[: spans * 2]
    errors: dict[str, list[str]] = {}
    minutes: list[int] = []
    for name in names:
        path = f"{where}.{name}"
        value = getattr(day, name)
        if value is None:
            errors[path] = [f"The {path} field is required when {where}.option is {day.option}."]
            continue
        parsed = _quarter_hour(value, is_end=name.startswith("end"))
        if parsed is None:
            latest = "24:00" if name.startswith("end") else "23:45"
            errors[path] = [
                f"The {path} field must be a time from 00:00 to {latest} in 15-minute steps."
            ]
            continue
        minutes.append(parsed)
    if errors:
        raise Invalid(errors)
    for position in range(1, len(minutes)):
        # A second span may begin right where the first one ends; otherwise time moves on.
        earlier = minutes[position - 1]
        if minutes[position] < earlier or (minutes[position] == earlier and position != 2):
            path = f"{where}.{names[position]}"
            previous = f"{where}.{names[position - 1]}"
            raise Invalid.field(path, f"The {path} field must be a time after {previous}.")


def _quarter_hour(text: str, *, is_end: bool) -> int | None:
    """Minutes since midnight of an "HH:MM" on a quarter hour, or None when it is not one."""
    hours, _, mins = text.partition(":")
    if not (len(hours) == 2 and len(mins) == 2 and hours.isdigit() and mins.isdigit()):
        return None
    value = int(hours) * 60 + int(mins)
    latest = 24 * 60 if is_end else 24 * 60 - 15
    if int(mins) >= 60 or value % 15 or value > latest:
        return None
    return value


async def _store(session: AsyncSession, workspace_id: int, day: Day) -> None:
    row = await session.get(BusinessHours, (workspace_id, day.day))
    if row is None:
        row = BusinessHours(workspace_id=workspace_id, day=day.day)
        session.add(row)
    row.option = day.option
    row.start, row.end, row.start_2, row.end_2 = day.start, day.end, day.start_2, day.end_2
    await session.flush()
