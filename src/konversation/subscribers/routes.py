"""The Subscriber group's core: create, update, delete, read and search subscribers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy.ext.asyncio import AsyncSession

from konversation.db import utcnow
from konversation.subscribers import service
from konversation.subscribers.filters import SubscriberFilter
from konversation.subscribers.models import Subscriber
from konversation.subscribers.wire import (
    CreateSubscriberIn,
    SubscriberOut,
    UpdateSubscriberIn,
    UserNsIn,
    bot_filters,
)
from konversation.wire import envelope
from konversation.wire.auth import ManageFlow
from konversation.wire.envelope import DataOut, OkOut, PageOut
from konversation.wire.errors import wire_errors
from konversation.wire.params import PageParams
from konversation.wire.session import Session

router = APIRouter(tags=["Subscriber"])

ERRORS = wire_errors(401, 403, 404, 422)
UserNs = Annotated[str, Query(description="The subscriber's id.", examples=["f1u1"])]


async def _answer(session: AsyncSession, subscriber: Subscriber) -> DataOut[SubscriberOut]:
    profile = await service.get_profile(session, subscriber)
    return envelope.one(SubscriberOut.of(profile, utcnow()))


@router.get("/subscribers", responses=ERRORS, summary="Search the bot's subscribers")
async def bot_users(
    key: ManageFlow,
    session: Session,
    paging: PageParams,
    wanted: Annotated[SubscriberFilter, Depends(bot_filters)],
) -> PageOut[SubscriberOut]:
    now = utcnow()
    found, total = await service.search(session, [key.bot_id], wanted, window=paging, now=now)
    return envelope.page([SubscriberOut.of(p, now) for p in found], total=total, window=paging)


@router.get("/subscriber/get-info", responses=ERRORS, summary="One subscriber by user_ns")
async def get_info(key: ManageFlow, session: Session, user_ns: UserNs) -> DataOut[SubscriberOut]:
    return await _answer(session, await service.get_subscriber(session, key.bot_id, user_ns))


@router.get(
    "/subscriber/get-info-by-user-id", responses=ERRORS, summary="One subscriber by channel id"
)
async def get_info_by_user_id(
    key: ManageFlow,
    session: Session,
    user_id: Annotated[str, Query(description="The subscriber's id on their channel.")],
) -> DataOut[SubscriberOut]:
    return await _answer(session, await service.get_by_user_id(session, key.bot_id, user_id))


@router.post("/subscriber/create", responses=ERRORS, summary="Create a subscriber")
async def create(
    body: CreateSubscriberIn, key: ManageFlow, session: Session
) -> DataOut[SubscriberOut]:
    subscriber = await service.create_subscriber(session, key.bot_id, body.details())
    return await _answer(session, subscriber)


@router.put("/subscriber/update", responses=ERRORS, summary="Update a subscriber's details")
async def update(
    body: UpdateSubscriberIn, key: ManageFlow, session: Session
) -> DataOut[SubscriberOut]:
    subscriber = await service.update_subscriber(session, key.bot_id, body.user_ns, body.details())
    return await _answer(session, subscriber)


@router.delete("/subscriber/delete", responses=ERRORS, summary="Delete a subscriber")
async def delete(body: UserNsIn, key: ManageFlow, session: Session) -> OkOut:
    await service.delete_subscriber(session, key.bot_id, body.user_ns)
    return envelope.ok()
