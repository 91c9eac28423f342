"""The Subscriber group's writes of tags, user field values and team labels."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, BeforeValidator, Field

from konversation.flows.wire import FieldValueT
from konversation.subscribers import attributes
from konversation.subscribers.attributes import MAX_ITEMS, Pick
from konversation.subscribers.wire import UserNsIn
from konversation.wire import envelope
from konversation.wire.auth import ManageFlow
from konversation.wire.envelope import OkOut
from konversation.wire.errors import wire_errors
from konversation.wire.session import Session

router = APIRouter(tags=["Subscriber"])

ERRORS = wire_errors(401, 403, 404, 422)
_VALUE_DOC = (
    "A string, number, boolean or array, read as the field's type; null or an empty string "
    "clears the field."
)


def _one(item: str) -> str:
    return f"Answers 404 when the subscriber or the {item} does not exist. "


def _many(item: str, plain_example: str | None = None) -> str:
    text = (
        f"`data` holds 1 to {MAX_ITEMS} items, all checked before anything is written: one "
        f"refused item (an unknown {item} answers 422 naming `data.<index>.<key>`) leaves the "
        "subscriber unchanged. An unknown subscriber answers 404. "
    )
    if plain_example:
        text += f'An item may also be a plain string, e.g. `data: ["{plain_example}"]`. '
    return text


def _idempotent(item: str) -> str:
    return (
        f"A {item} is never created here. Adding one the subscriber already has, or removing "
        "one they lack, answers 200 and changes nothing."
    )


_LABELS = "Team labels belong to the workspace (see Team Label). "
_FIELDS = (
    "Values are read as each field's type (one that cannot be answers 422 naming it); "
    "over-long text is cut to the type's limit and the write still answers 200; null or an "
    "empty string clears the field."
)


def _plain_string_as(key: str) -> BeforeValidator:
    """Some clients send `data: ["VIP"]`: a plain string stands for `{key: string}`."""
    return BeforeValidator(lambda item: {key: item} if isinstance(item, str) else item)


# Request bodies


class TagNsIn(UserNsIn):
    tag_ns: str = Field(examples=["f1t1"])

    def pick(self) -> Pick:
        return Pick.one("tag_ns", self.tag_ns)


class TagNameIn(UserNsIn):
    tag_name: str = Field(examples=["VIP"])

    def pick(self) -> Pick:
        return Pick.one("tag_name", self.tag_name)


class TagNsItem(BaseModel):
    tag_ns: str = Field(examples=["f1t1"])


class TagNameItem(BaseModel):
    tag_name: str = Field(examples=["VIP"])


class TagsIn(UserNsIn):
    data: list[Annotated[TagNsItem, _plain_string_as("tag_ns")]]

    def pick(self) -> Pick:
        return Pick.many("tag_ns", [item.tag_ns for item in self.data])


class TagsByNameIn(UserNsIn):
    data: list[Annotated[TagNameItem, _plain_string_as("tag_name")]]

    def pick(self) -> Pick:
        return Pick.many("tag_name", [item.tag_name for item in self.data])


class ClearFieldIn(UserNsIn):
    var_ns: str = Field(examples=["f1v1"])

    def pick(self) -> Pick:
        return Pick.one("var_ns", self.var_ns)


class ClearFieldByNameIn(UserNsIn):
    field_name: str = Field(examples=["Favourite colour"])

    def pick(self) -> Pick:
        return Pick.one("field_name", self.field_name)


class SetFieldIn(ClearFieldIn):
    value: FieldValueT = Field(description=_VALUE_DOC, examples=["blue"])


class SetFieldByNameIn(ClearFieldByNameIn):
    value: FieldValueT = Field(description=_VALUE_DOC, examples=["blue"])


class VarNsItem(BaseModel):
    var_ns: str = Field(examples=["f1v1"])


class FieldNameItem(BaseModel):
    name: str = Field(examples=["Favourite colour"])


class FieldValueItem(VarNsItem):
    value: FieldValueT = Field(description=_VALUE_DOC, examples=["blue"])


class FieldValueByNameItem(FieldNameItem):
    value: FieldValueT = Field(description=_VALUE_DOC, examples=["blue"])


class ClearFieldsIn(UserNsIn):
    data: list[Annotated[VarNsItem, _plain_string_as("var_ns")]]

    def pick(self) -> Pick:
        return Pick.many("var_ns", [item.var_ns for item in self.data])


class ClearFieldsByNameIn(UserNsIn):
    data: list[Annotated[FieldNameItem, _plain_string_as("name")]]

    def pick(self) -> Pick:
        return Pick.many("name", [item.name for item in self.data])


class SetFieldsIn(UserNsIn):
    data: list[FieldValueItem]

    def pick(self) -> Pick:
        return Pick.many("var_ns", [item.var_ns for item in self.data])

    def values(self) -> list[Any]:
        return [item.value for item in self.data]


class SetFieldsByNameIn(UserNsIn):
    data: list[FieldValueByNameItem]

    def pick(self) -> Pick:
        return Pick.many("name", [item.name for item in self.data])

    def values(self) -> list[Any]:
        return [item.value for item in self.data]


class LabelNameItem(BaseModel):
    label_name: str = Field(examples=["Priority"])


class LabelsByNameIn(UserNsIn):
    data: list[Annotated[LabelNameItem, _plain_string_as("label_name")]]

    def pick(self) -> Pick:
        return Pick.many("label_name", [item.label_name for item in self.data])


# Tags


@router.post(
    "/subscriber/add-tag",
    responses=ERRORS,
    summary="Tag a subscriber",
    description=_one("tag") + _idempotent("tag"),
)
async def add_tag(body: TagNsIn, key: ManageFlow, session: Session) -> OkOut:
    await attributes.add_tags(session, key.bot_id, user_ns=body.user_ns, tags=body.pick())
    return envelope.ok()


@router.post(
    "/subscriber/add-tag-by-name",
    responses=ERRORS,
    summary="Tag a subscriber, naming the tag",
    description=_one("tag") + _idempotent("tag"),
)
async def add_tag_by_name(body: TagNameIn, key: ManageFlow, session: Session) -> OkOut:
    await attributes.add_tags(session, key.bot_id, user_ns=body.user_ns, tags=body.pick())
    return envelope.ok()


@router.post(
    "/subscriber/add-tags",
    responses=ERRORS,
    summary="Put up to 20 tags on a subscriber",
    description=_many("tag", "f1t1") + _idempotent("tag"),
)
async def add_tags(body: TagsIn, key: ManageFlow, session: Session) -> OkOut:
    await attributes.add_tags(session, key.bot_id, user_ns=body.user_ns, tags=body.pick())
    return envelope.ok()


@router.post(
    "/subscriber/add-tags-by-name",
    responses=ERRORS,
    summary="Put up to 20 tags on a subscriber, naming them",
    description=_many("tag", "VIP") + _idempotent("tag"),
)
async def add_tags_by_name(body: TagsByNameIn, key: ManageFlow, session: Session) -> OkOut:
    await attributes.add_tags(session, key.bot_id, user_ns=body.user_ns, tags=body.pick())
    return envelope.ok()


@router.delete(
    "/subscriber/remove-tag",
    responses=ERRORS,
    summary="Untag a subscriber",
    description=_one("tag") + _idempotent("tag"),
)
async def remove_tag(body: TagNsIn, key: ManageFlow, session: Session) -> OkOut:
    await attributes.remove_tags(session, key.bot_id, user_ns=body.user_ns, tags=body.pick())
    return envelope.ok()


@router.delete(
    "/subscriber/remove-tag-by-name",
    responses=ERRORS,
    summary="Untag a subscriber, naming the tag",
    description=_one("tag") + _idempotent("tag"),
)
async def remove_tag_by_name(body: TagNameIn, key: ManageFlow, session: Session) -> OkOut:
    await attributes.remove_tags(session, key.bot_id, user_ns=body.user_ns, tags=body.pick())
    return envelope.ok()


@router.delete(
    "/subscriber/remove-tags",
    responses=ERRORS,
    summary="Take up to 20 tags off a subscriber",
    description=_many("tag", "f1t1") + _idempotent("tag"),
)
async def remove_tags(body: TagsIn, key: ManageFlow, session: Session) -> OkOut:
    await attributes.remove_tags(session, key.bot_id, user_ns=body.user_ns, tags=body.pick())
    return envelope.ok()


@router.delete(
    "/subscriber/remove-tags-by-name",
    responses=ERRORS,
    summary="Take up to 20 tags off a subscriber, naming them",
    description=_many("tag", "VIP") + _idempotent("tag"),
)
async def remove_tags_by_name(body: TagsByNameIn, key: ManageFlow, session: Session) -> OkOut:
    await attributes.remove_tags(session, key.bot_id, user_ns=body.user_ns, tags=body.pick())
    return envelope.ok()


# User field values


@router.put(
    "/subscriber/set-user-field",
    responses=ERRORS,
    summary="Set one of a subscriber's user fields",
    description=_one("user field") + _FIELDS,
)
async def set_user_field(body: SetFieldIn, key: ManageFlow, session: Session) -> OkOut:
    await attributes.set_fields(
        session, key.bot_id, user_ns=body.user_ns, fields=body.pick(), values=[body.value]
    )
    return envelope.ok()


@router.put(
    "/subscriber/set-user-field-by-name",
    responses=ERRORS,
    summary="Set one of a subscriber's user fields, naming it",
    description=_one("user field") + _FIELDS,
)
async def set_user_field_by_name(
    body: SetFieldByNameIn, key: ManageFlow, session: Session
) -> OkOut:
    await attributes.set_fields(
        session, key.bot_id, user_ns=body.user_ns, fields=body.pick(), values=[body.value]
    )
    return envelope.ok()


@router.put(
    "/subscriber/set-user-fields",
    responses=ERRORS,
    summary="Set up to 20 of a subscriber's user fields",
    description=_many("user field") + _FIELDS,
)
async def set_user_fields(body: SetFieldsIn, key: ManageFlow, session: Session) -> OkOut:
    await attributes.set_fields(
        session, key.bot_id, user_ns=body.user_ns, fields=body.pick(), values=body.values()
    )
    return envelope.ok()


@router.put(
    "/subscriber/set-user-fields-by-name",
    responses=ERRORS,
    summary="Set up to 20 of a subscriber's user fields, naming them",
    description=_many("user field") + _FIELDS,
)
async def set_user_fields_by_name(
    body: SetFieldsByNameIn, key: ManageFlow, session: Session
) -> OkOut:
    await attributes.set_fields(
        session, key.bot_id, user_ns=body.user_ns, fields=body.pick(), values=body.values()
    )
    return envelope.ok()


@router.delete(
    "/subscriber/clear-user-field",
    responses=ERRORS,
    summary="Clear one of a subscriber's user fields",
    description=_one("user field"),
)
async def clear_user_field(body: ClearFieldIn, key: ManageFlow, session: Session) -> OkOut:
    await attributes.clear_fields(session, key.bot_id, user_ns=body.user_ns, fields=body.pick())
    return envelope.ok()


@router.delete(
    "/subscriber/clear-user-field-by-name",
    responses=ERRORS,
    summary="Clear one of a subscriber's user fields, naming it",
    description=_one("user field"),
)
async def clear_user_field_by_name(
    body: ClearFieldByNameIn, key: ManageFlow, session: Session
) -> OkOut:
    await attributes.clear_fields(session, key.bot_id, user_ns=body.user_ns, fields=body.pick())
    return envelope.ok()


@router.delete(
    "/subscriber/clear-user-fields",
    responses=ERRORS,
    summary="Clear up to 20 of a subscriber's user fields",
    description=_many("user field", "f1v1"),
)
async def clear_user_fields(body: ClearFieldsIn, key: ManageFlow, session: Session) -> OkOut:
    await attributes.clear_fields(session, key.bot_id, user_ns=body.user_ns, fields=body.pick())
    return envelope.ok()


@router.delete(
    "/subscriber/clear-user-fields-by-name",
    responses=ERRORS,
    summary="Clear up to 20 of a subscriber's user fields, naming them",
    description=_many("user field", "Favourite colour"),
)
async def clear_user_fields_by_name(
    body: ClearFieldsByNameIn, key: ManageFlow, session: Session
) -> OkOut:
    await attributes.clear_fields(session, key.bot_id, user_ns=body.user_ns, fields=body.pick())
    return envelope.ok()


# Team labels


@router.post(
    "/subscriber/add-labels-by-name",
    responses=ERRORS,
    summary="Put up to 20 team labels on a subscriber",
    description=_LABELS + _many("label", "Priority") + _idempotent("label"),
)
async def add_labels_by_name(body: LabelsByNameIn, key: ManageFlow, session: Session) -> OkOut:
    await attributes.add_labels(
        session,
        key.bot_id,
        workspace_id=key.workspace_id,
        user_ns=body.user_ns,
        labels=body.pick(),
    )
    return envelope.ok()


@router.delete(
    "/subscriber/remove-labels-by-name",
    responses=ERRORS,
    summary="Take up to 20 team labels off a subscriber",
    description=_LABELS + _many("label", "Priority") + _idempotent("label"),
)
async def remove_labels_by_name(body: LabelsByNameIn, key: ManageFlow, session: Session) -> OkOut:
    await attributes.remove_labels(
        session,
        key.bot_id,
        workspace_id=key.workspace_id,
        user_ns=body.user_ns,
        labels=body.pick(),
    )
    return envelope.ok()
