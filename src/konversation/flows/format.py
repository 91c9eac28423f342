"""The flow document, version 1, as pydantic models: the one definition of its shape.

A flow document is `{"version": 1, "start": <node id> | null, "nodes": [<node>, ...]}`. Every node
has a string `id` unique in the document, a `type`, and optionally a `name` and a canvas
`position` `{x, y}` for the flow builder (the runtime ignores both). A node hands on to the next
one through its *ports*: fields that hold another node's id, or null to end the flow there. When
a flow started by a `start_flow` node ends, the calling flow carries on at that node's `next`.

`start` may be null even when there are nodes (a draft that does nothing yet), and nodes no port
leads to are allowed: the builder keeps drafts around. Texts, URLs and values may contain
`{{name}}` templates (see `konversation.runtime.templates`).

`konversation.flows.document.validate_definition` checks a document against these models and the
rules across nodes (unique ids, ports naming existing nodes, what each flow kind may hold);
`flow_schema()` is the JSON Schema of the same models, served at `GET /flow/schema`.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Self, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    JsonValue,
    Tag,
    WithJsonSchema,
    model_validator,
)

from konversation.miniapps.models import (
    MAX_ACTION_NAME,
    MAX_APP_NS,
    MAX_TRIGGER_NAME,
    NAME_PATTERN,
)
from konversation.runtime.templates import has_placeholder
from konversation.workspaces.service import BOT_CHANNELS

FORMAT_VERSION = 1

MAX_NODES = 1000
MAX_MESSAGES = 10
MAX_BUTTONS = 3
MAX_CARDS = 10
MAX_QUICK_REPLIES = 11
MAX_ACTIONS = 20
MAX_BRANCHES = 20
MAX_CONDITIONS = 20
MAX_RANDOM_BRANCHES = 10
MAX_HEADERS = 20
MAX_SAVES = 20
MAX_OUTPUTS = 20
MAX_RETRIES = 5
MAX_MINUTES = 525_600  # a year
MAX_INPUT_MINUTES = 10_080  # a week
MAX_HTTP_SECONDS = 30

# Patterns, and how a refusal describes a value that does not follow them.
ID_PATTERN = r"^[A-Za-z0-9_-]+$"
TAG_NS_PATTERN = r"^f[0-9]+t[0-9]+$"
VAR_NS_PATTERN = r"^f[0-9]+v[0-9]+$"
SUB_FLOW_NS_PATTERN = r"^f[0-9]+s[0-9]+$"
URL_PATTERN = r"^(https?://|\{\{)"
PHONE_PATTERN = r"^(\+?[0-9]{3,20}|\{\{.+\}\})$"
TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
JSON_PATH_PATTERN = r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$"
HEADER_PATTERN = r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$"
TEMPLATE_NAME_PATTERN = r"^[a-z0-9_]{1,512}$"
TEMPLATE_PARAM_PATTERN = r"^(HEADER_|BODY_|URL_|QUICK_REPLY_)[A-Za-z0-9_{}]+$"
PATTERN_WORDS = {
    ID_PATTERN: "must be made of letters, digits, hyphens and underscores",
    TAG_NS_PATTERN: "must be a tag id such as f1t1",
    VAR_NS_PATTERN: "must be a field id such as f1v1",
    SUB_FLOW_NS_PATTERN: "must be a sub flow id such as f1s1",
    URL_PATTERN: "must be a web address starting with https:// or http://, or a {{template}}",
    PHONE_PATTERN: "must be a phone number of 3 to 20 digits, optionally after a +, "
    "or a {{template}}",
    TIME_PATTERN: "must be a time of day such as 09:30",
    JSON_PATH_PATTERN: "must be a dotted path into the answer such as data.items.0.id",
    HEADER_PATTERN: "must be a valid header name such as X-Api-Key",
    TEMPLATE_NAME_PATTERN: "must be a WhatsApp template name: lowercase letters, digits and _",
    TEMPLATE_PARAM_PATTERN: "must be a template parameter name such as BODY_{{1}}, "
    "HEADER_IMAGE, URL_1 or QUICK_REPLY_1",
}

NodeId = Annotated[
    str,
    Field(min_length=1, max_length=64, pattern=ID_PATTERN, description="A node's id."),
]
PortId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=ID_PATTERN,
        description="Names a button, quick reply or branch, and so its port, within its node.",
    ),
]
OutputName = Annotated[
    str,
    Field(min_length=1, max_length=64, pattern=ID_PATTERN, description="A function flow's output."),
]
Next = Annotated[
    NodeId | None, Field(description="The node to go on with; null ends the flow here.")
]
TagNs = Annotated[str, Field(pattern=TAG_NS_PATTERN, examples=["f1t1"])]
VarNs = Annotated[str, Field(pattern=VAR_NS_PATTERN, examples=["f1v1"])]
SubFlowNs = Annotated[str, Field(pattern=SUB_FLOW_NS_PATTERN, examples=["f1s1"])]
Url = Annotated[str, Field(min_length=1, max_length=2048, pattern=URL_PATTERN)]
Phone = Annotated[str, Field(pattern=PHONE_PATTERN, max_length=255, examples=["+15550100"])]
Text = Annotated[str, Field(min_length=1, max_length=4096)]
Title = Annotated[str, Field(min_length=1, max_length=80)]
TimeOfDay = Annotated[str, Field(pattern=TIME_PATTERN, examples=["09:00"])]
Minutes = Annotated[int, Field(ge=1, le=MAX_MINUTES)]

Path = tuple[str | int, ...]


class _Part(BaseModel):
    # Unknown keys are refused so that a misspelt field is reported, not silently dropped.
    model_config = ConfigDict(
        extra="forbid", strict=True, validate_by_alias=True, serialize_by_alias=True
    )


class Position(_Part):
    """Where the builder draws the node."""

    x: float = Field(allow_inf_nan=False)
    y: float = Field(allow_inf_nan=False)


# Values: plain JSON, with the few shapes a field can hold


_SCALAR_SCHEMA: dict[str, Any] = {"type": ["string", "number", "boolean"]}


def _scalar(value: Any) -> Any:
    if isinstance(value, (str, int, float)):  # bool is an int
        return value
    raise ValueError("must be text, a number, true or false")


def _scalar_or_list(value: Any) -> Any:
    if isinstance(value, list) and all(isinstance(item, (str, int, float)) for item in value):
        return value
    if isinstance(value, (str, int, float)):
        return value
    raise ValueError("must be text, a number, true or false, or a list of those")


def _number_or_template(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and has_placeholder(value):
        return value
    raise ValueError("must be a number or a {{template}}")


def _time_zone(value: str) -> str:
    if value not in _time_zones():
        raise ValueError("must be a time zone such as Europe/Berlin")
    return value


def _moment(value: str) -> str:
    if has_placeholder(value):
        return value
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            "must be a date and time such as 2030-01-31T09:00:00+01:00, or a {{template}}"
        ) from None
    return value


@functools.cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


ScalarValue = Annotated[
    Any,
    AfterValidator(_scalar),
    WithJsonSchema({**_SCALAR_SCHEMA, "description": "Text may contain {{templates}}."}),
]
FieldValue = Annotated[
    Any,
    AfterValidator(_scalar_or_list),
    WithJsonSchema(
        {
            "anyOf": [_SCALAR_SCHEMA, {"type": "array", "items": _SCALAR_SCHEMA}],
            "description": "Read according to the field's type; text may contain {{templates}}.",
        }
    ),
]
NumberOrTemplate = Annotated[
    Any,
    AfterValidator(_number_or_template),
    WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "string", "pattern": r"\{\{"}]}),
]


Label = Annotated[str, Field(max_length=255, description="A label for the builder.")]
Moment = Annotated[str, Field(min_length=1, max_length=255), AfterValidator(_moment)]
TimeZone = Annotated[str, AfterValidator(_time_zone), Field(examples=["Europe/Berlin"])]


# Messages and their buttons


class GoToButtonAction(_Part):
    """Go on at a node of this flow: the button is one of the node's ports."""

    type: Literal["go_to"]
    node: NodeId


class UrlButtonAction(_Part):
    type: Literal["url"]
    url: Url


class SubFlowButtonAction(_Part):
    type: Literal["sub_flow"]
    sub_flow_ns: SubFlowNs


class PhoneButtonAction(_Part):
    type: Literal["phone"]
    phone: Phone


ButtonAction = Annotated[
    GoToButtonAction | UrlButtonAction | SubFlowButtonAction | PhoneButtonAction,
    Field(discriminator="type"),
]


class Button(_Part):
    id: PortId
    title: Title
    action: ButtonAction


Buttons = Annotated[list[Button], Field(max_length=MAX_BUTTONS)]


class TextMessage(_Part):
    type: Literal["text"]
    text: Text
    buttons: Buttons = []

    def placed_buttons(self) -> Iterator[tuple[Path, Button]]:
        for index, button in enumerate(self.buttons):
            yield ("buttons", index), button


class MediaMessage(_Part):
    type: Literal["image", "file", "audio", "video"]
    url: Url
    caption: Annotated[str, Field(max_length=1024)] | None = None

    def placed_buttons(self) -> Iterator[tuple[Path, Button]]:
        return iter(())


class Card(_Part):
    title: Title
    subtitle: Annotated[str, Field(max_length=255)] | None = None
    image_url: Url | None = None
    buttons: Buttons = []


class CardsMessage(_Part):
    """A carousel of cards."""

    type: Literal["cards"]
    cards: list[Card] = Field(min_length=1, max_length=MAX_CARDS)

    def placed_buttons(self) -> Iterator[tuple[Path, Button]]:
        for card_index, card in enumerate(self.cards):
            for index, button in enumerate(card.buttons):
                yield ("cards", card_index, "buttons", index), button


Message = Annotated[TextMessage | MediaMessage | CardsMessage, Field(discriminator="type")]
Messages = Annotated[list[Message], Field(min_length=1, max_length=MAX_MESSAGES)]


class QuickReply(_Part):
    id: PortId
    title: Title
    next: Next = None


# Nodes


@dataclass(frozen=True)
class Port:
    """A place in a node (`path`, inside the node) naming the node to go on with."""

    path: Path
    target: str | None


class NodeBase(_Part):
    id: NodeId
    type: str
    name: Label | None = None
    position: Position | None = None

    def ports(self) -> Iterator[Port]:
        """Every field of the node that names a node (or null), in document order."""
        return iter(())

    def item_ids(self) -> Iterator[tuple[Path, str]]:
        """The ids of the node's buttons, quick replies and branches, which share one space."""
        return iter(())


def _message_ports(messages: list[Message], *, under: Path) -> Iterator[Port]:
    for index, message in enumerate(messages):
        for path, button in message.placed_buttons():
            if isinstance(button.action, GoToButtonAction):
                yield Port((*under, index, *path, "action", "node"), button.action.node)


def _message_item_ids(messages: list[Message], *, under: Path) -> Iterator[tuple[Path, str]]:
    for index, message in enumerate(messages):
        for path, button in message.placed_buttons():
            yield (*under, index, *path), button.id


class SendMessageNode(NodeBase):
    """Sends its messages in order, then offers its quick replies (if any) or goes on."""

    type: Literal["send_message"]
    messages: Messages
    quick_replies: list[QuickReply] = Field(default=[], max_length=MAX_QUICK_REPLIES)
    next: Next = None

    def ports(self) -> Iterator[Port]:
        yield from _message_ports(self.messages, under=("messages",))
        for index, reply in enumerate(self.quick_replies):
            yield Port(("quick_replies", index, "next"), reply.next)
        yield Port(("next",), self.next)

    def item_ids(self) -> Iterator[tuple[Path, str]]:
        yield from _message_item_ids(self.messages, under=("messages",))
        for index, reply in enumerate(self.quick_replies):
            yield ("quick_replies", index), reply.id


class AddTagAction(_Part):
    type: Literal["add_tag"]
    tag_ns: TagNs


class RemoveTagAction(_Part):
    type: Literal["remove_tag"]
    tag_ns: TagNs


class SetFieldAction(_Part):
    """Set one of the subscriber's user fields."""

    type: Literal["set_field"]
    var_ns: VarNs
    value: FieldValue


class ClearFieldAction(_Part):
    type: Literal["clear_field"]
    var_ns: VarNs


class SetBotFieldAction(_Part):
    type: Literal["set_bot_field"]
    var_ns: VarNs
    value: FieldValue


class SubscribeAction(_Part):
    type: Literal["subscribe"]


class UnsubscribeAction(_Part):
    type: Literal["unsubscribe"]


class PauseBotAction(_Part):
    """Stop the bot answering the subscriber for a while."""

    type: Literal["pause_bot"]
    minutes: Minutes


class LogEventAction(_Part):
    type: Literal["log_event"]
    event_name: Annotated[str, Field(min_length=1, max_length=255)]
    text_value: Annotated[str, Field(max_length=4096)] | None = None
    number_value: NumberOrTemplate | None = None
    price_value: NumberOrTemplate | None = None


class SaveRule(_Part):
    """Keep one value of the JSON answer in a user field."""

    path: Annotated[
        str, Field(min_length=1, max_length=255, pattern=JSON_PATH_PATTERN, examples=["data.id"])
    ]
    var_ns: VarNs


class HttpRequestAction(_Part):
    """Call a web address, optionally keeping parts of its JSON answer in user fields."""

    type: Literal["http_request"]
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
    url: Url
    headers: dict[
        Annotated[str, Field(min_length=1, max_length=255, pattern=HEADER_PATTERN)],
        Annotated[str, Field(max_length=4096)],
    ] = Field(default={}, max_length=MAX_HEADERS)
    body: JsonValue = Field(
        default=None, description="Text or JSON; its texts may contain {{templates}}."
    )
    timeout_seconds: int = Field(default=10, ge=1, le=MAX_HTTP_SECONDS)
    save: list[SaveRule] = Field(default=[], max_length=MAX_SAVES)
    on_error: Next = Field(
        default=None,
        description="Where to go when the request fails or answers a status of 400 or more; "
        "null carries on with the next action.",
    )


class NotifyWebhookAction(_Part):
    """Post the subscriber's data, and `payload` if given, to a web address."""

    type: Literal["notify_webhook"]
    url: Url
    payload: dict[str, JsonValue] | None = None


MAX_TICKET_VALUES = 20


class OpenTicketAction(_Part):
    """Open an item for the subscriber on the workspace's ticket list called `list_name`.

    `values` names the list's columns by their name or key (`select1`); the title, description
    and values may contain {{templates}}. A value its column refuses skips the action."""

    type: Literal["open_ticket"]
    list_name: Annotated[str, Field(min_length=1, max_length=255, examples=["Support"])]
    title: Annotated[str, Field(min_length=1, max_length=255)]
    description: Annotated[str, Field(max_length=4096)] | None = None
    values: dict[Annotated[str, Field(min_length=1, max_length=255)], ScalarValue] = Field(
        default={}, max_length=MAX_TICKET_VALUES
    )


# What installed mini-apps, and what they declare, are called (an app declares them at install).
AppNs = Annotated[
    str,
    Field(min_length=1, max_length=MAX_APP_NS, pattern=NAME_PATTERN, examples=["acme_crm"]),
]
AppActionName = Annotated[
    str,
    Field(min_length=1, max_length=MAX_ACTION_NAME, pattern=NAME_PATTERN, examples=["lookup"]),
]
AppTriggerName = Annotated[
    str,
    Field(min_length=1, max_length=MAX_TRIGGER_NAME, pattern=NAME_PATTERN, examples=["paid"]),
]
AppParamName = Annotated[
    str, Field(min_length=1, max_length=64, pattern=NAME_PATTERN, examples=["phone"])
]
MAX_APP_PARAMS = 20


class CallAppAction(_Part):
    """Call the action called `action` that the installed mini-app `app_ns` declared.

    `params` (texts may contain {{templates}}) go in the query string of a GET or DELETE and as
    a JSON object otherwise; only the names the action declared are sent. The app's key goes
    as `Authorization: Bearer`. `save` keeps parts of the JSON answer in user fields. A call
    that cannot be made (the app or action is gone, its key is not set) or fails goes on at
    `on_error`."""

    type: Literal["call_app"]
    app_ns: AppNs
    action: AppActionName
    params: dict[AppParamName, JsonValue] = Field(default={}, max_length=MAX_APP_PARAMS)
    timeout_seconds: int = Field(default=10, ge=1, le=MAX_HTTP_SECONDS)
    save: list[SaveRule] = Field(default=[], max_length=MAX_SAVES)
    on_error: Next = Field(
        default=None,
        description="Where to go when the call cannot be made, fails or answers a status of "
        "400 or more; null carries on with the next action.",
    )


Action = Annotated[
    AddTagAction
    | RemoveTagAction
    | SetFieldAction
    | ClearFieldAction
    | SetBotFieldAction
    | SubscribeAction
    | UnsubscribeAction
    | PauseBotAction
    | LogEventAction
    | HttpRequestAction
    | NotifyWebhookAction
    | OpenTicketAction
    | CallAppAction,
    Field(discriminator="type"),
]


class ActionNode(NodeBase):
    """Runs its actions in order, then goes on."""

    type: Literal["action"]
    actions: list[Action] = Field(min_length=1, max_length=MAX_ACTIONS)
    next: Next = None

    def ports(self) -> Iterator[Port]:
        for index, action in enumerate(self.actions):
            if isinstance(action, HttpRequestAction | CallAppAction):
                yield Port(("actions", index, "on_error"), action.on_error)
        yield Port(("next",), self.next)


# Conditions


class _Subject(_Part):
    type: str


class TagSubject(_Subject):
    type: Literal["tag"]
    tag_ns: TagNs


class FieldSubject(_Subject):
    type: Literal["field"]
    var_ns: VarNs


class BotFieldSubject(_Subject):
    type: Literal["bot_field"]
    var_ns: VarNs


class ChannelSubject(_Subject):
    type: Literal["channel"]


class TimeSubject(_Subject):
    """The current time, in `timezone` or else the bot's time zone."""

    type: Literal["time"]
    timezone: TimeZone | None = None


class _Condition(_Part):
    subject: _Subject


class TagCondition(_Condition):
    subject: TagSubject
    operator: Literal["has", "has_not"]


FieldOperator = Literal[
    "eq",
    "neq",
    "gt",
    "gte",
    "lt",
    "lte",
    "contains",
    "not_contains",
    "starts_with",
    "is_set",
    "is_not_set",
]
UNARY_OPERATORS = frozenset({"is_set", "is_not_set"})


class _FieldCondition(_Condition):
    operator: FieldOperator
    value: ScalarValue | None = Field(
        default=None, description="Required, except for is_set and is_not_set which take none."
    )

    @model_validator(mode="after")
    def _value_fits_operator(self) -> Self:
        if self.operator in UNARY_OPERATORS and self.value is not None:
            raise ValueError(f"takes no value for the operator {self.operator}")
        if self.operator not in UNARY_OPERATORS and self.value is None:
            raise ValueError(f"needs a value for the operator {self.operator}")
        return self


class FieldCondition(_FieldCondition):
    subject: FieldSubject


class BotFieldCondition(_FieldCondition):
    subject: BotFieldSubject


class ChannelCondition(_Condition):
    subject: ChannelSubject
    operator: Literal["eq", "neq"]
    value: Literal[BOT_CHANNELS]  # type: ignore[valid-type]


Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


class TimeRange(_Part):
    """From `start` up to `end`; a range whose end comes first spans midnight."""

    start: TimeOfDay
    end: TimeOfDay

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if self.start == self.end:
            raise ValueError("must end at another time than it starts")
        return self


def _time_value_shape(value: Any) -> str | None:
    if isinstance(value, list):
        return "weekdays"
    if isinstance(value, (dict, TimeRange)):
        return "range"
    return None


Weekdays = Annotated[list[Weekday], Field(min_length=1, max_length=7)]
TimeValue = Annotated[
    Annotated[Weekdays, Tag("weekdays")] | Annotated[TimeRange, Tag("range")],
    Discriminator(
        _time_value_shape,
        custom_error_type="time_value",
        custom_error_message="must be a list of weekdays or a {start, end} time range",
    ),
]


class TimeCondition(_Condition):
    """`weekday_in` a list of weekdays, or `between` a `{start, end}` time range."""

    subject: TimeSubject
    operator: Literal["weekday_in", "between"]
    value: TimeValue

    @model_validator(mode="after")
    def _value_fits_operator(self) -> Self:
        if self.operator == "weekday_in":
            if not isinstance(self.value, list):
                raise ValueError("needs a list of weekdays as its value for weekday_in")
            if len(set(self.value)) != len(self.value):
                raise ValueError("lists a weekday more than once")
        elif not isinstance(self.value, TimeRange):
            raise ValueError("needs a {start, end} time range as its value for between")
        return self


def _subject_type(value: Any) -> str | None:
    if isinstance(value, _Condition):
        return value.subject.type
    subject = value.get("subject") if isinstance(value, dict) else None
    kind = subject.get("type") if isinstance(subject, dict) else None
    return kind if isinstance(kind, str) else None


Condition = Annotated[
    Annotated[TagCondition, Tag("tag")]
    | Annotated[FieldCondition, Tag("field")]
    | Annotated[BotFieldCondition, Tag("bot_field")]
    | Annotated[ChannelCondition, Tag("channel")]
    | Annotated[TimeCondition, Tag("time")],
    Discriminator(
        _subject_type,
        custom_error_type="condition_subject",
        custom_error_message="needs a subject whose type is tag, field, bot_field, channel or time",
    ),
]


class Branch(_Part):
    """Taken when all (or any) of its conditions hold."""

    id: PortId
    match: Literal["all", "any"] = "all"
    conditions: list[Condition] = Field(min_length=1, max_length=MAX_CONDITIONS)
    next: Next = None


class ConditionNode(NodeBase):
    """Goes on with the first branch whose conditions hold, or with `else`."""

    type: Literal["condition"]
    branches: list[Branch] = Field(min_length=1, max_length=MAX_BRANCHES)
    else_: Next = Field(default=None, alias="else")

    def ports(self) -> Iterator[Port]:
        for index, branch in enumerate(self.branches):
            yield Port(("branches", index, "next"), branch.next)
        yield Port(("else",), self.else_)

    def item_ids(self) -> Iterator[tuple[Path, str]]:
        for index, branch in enumerate(self.branches):
            yield ("branches", index), branch.id


# Waiting for the subscriber


def _question_shape(value: Any) -> str | None:
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "messages"
    return None


Question = Annotated[
    Annotated[Text, Tag("text")] | Annotated[Messages, Tag("messages")],
    Discriminator(
        _question_shape,
        custom_error_type="question_shape",
        custom_error_message="must be a text or a list of messages",
    ),
]
InputType = Literal["text", "number", "email", "phone", "date", "datetime", "choice"]


class UserInputNode(NodeBase):
    """Asks a question and waits for an answer of `input_type`, kept in `var_ns` if given.

    A valid answer goes on at `next`; after `retries` invalid ones (each answered with
    `retry_message`, or else the question again) at `invalid`; without an answer for
    `timeout_minutes` at `timeout`.
    """

    type: Literal["user_input"]
    question: Question
    var_ns: VarNs | None = None
    input_type: InputType = "text"
    choices: list[Title] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_QUICK_REPLIES,
        description="The answers to choose from; required for, and only for, input_type choice.",
    )
    retries: int = Field(default=2, ge=0, le=MAX_RETRIES)
    retry_message: Text | None = None
    timeout_minutes: int | None = Field(default=None, ge=1, le=MAX_INPUT_MINUTES)
    next: Next = None
    invalid: Next = None
    timeout: Next = None

    @model_validator(mode="after")
    def _choices_fit_input_type(self) -> Self:
        if self.input_type == "choice" and self.choices is None:
            raise ValueError("needs choices when the input_type is choice")
        if self.input_type != "choice" and self.choices is not None:
            raise ValueError("takes choices only when the input_type is choice")
        folded = [choice.casefold() for choice in self.choices or ()]
        if len(set(folded)) != len(folded):
            raise ValueError("lists a choice more than once")
        return self

    def _messages(self) -> list[Message]:
        return [] if isinstance(self.question, str) else self.question

    def ports(self) -> Iterator[Port]:
        yield from _message_ports(self._messages(), under=("question",))
        yield Port(("next",), self.next)
        yield Port(("invalid",), self.invalid)
        yield Port(("timeout",), self.timeout)

    def item_ids(self) -> Iterator[tuple[Path, str]]:
        yield from _message_item_ids(self._messages(), under=("question",))


# Steering


class RandomBranch(_Part):
    id: PortId
    weight: int = Field(ge=1, le=100, description="Relative to the other branches' weights.")
    next: Next = None


class RandomizerNode(NodeBase):
    """Goes on with one branch, picked at random by weight."""

    type: Literal["randomizer"]
    branches: list[RandomBranch] = Field(min_length=2, max_length=MAX_RANDOM_BRANCHES)

    def ports(self) -> Iterator[Port]:
        for index, branch in enumerate(self.branches):
            yield Port(("branches", index, "next"), branch.next)

    def item_ids(self) -> Iterator[tuple[Path, str]]:
        for index, branch in enumerate(self.branches):
            yield ("branches", index), branch.id


class DelayNode(NodeBase):
    """Waits `minutes`, or `until` a moment, then goes on; the wait survives restarts.

    `until` is an ISO date and time (read in the bot's time zone when it has no offset) or a
    template giving one.
    """

    type: Literal["delay"]
    minutes: Minutes | None = None
    until: Moment | None = None
    next: Next = None

    @model_validator(mode="after")
    def _one_way_to_wait(self) -> Self:
        if (self.minutes is None) == (self.until is None):
            raise ValueError("needs either minutes or until, not both")
        return self

    def ports(self) -> Iterator[Port]:
        yield Port(("next",), self.next)


class GoToNode(NodeBase):
    """Goes on at another node of this flow."""

    type: Literal["go_to"]
    node: NodeId

    def ports(self) -> Iterator[Port]:
        yield Port(("node",), self.node)


class StartFlowNode(NodeBase):
    """Runs a sub flow; when it ends, goes on at `next`.

    When the sub flow is a function flow that returns an output named in `outputs`, goes on at
    that output's node instead.
    """

    type: Literal["start_flow"]
    sub_flow_ns: SubFlowNs
    outputs: dict[OutputName, Next] = Field(default={}, max_length=MAX_OUTPUTS)
    next: Next = None

    def ports(self) -> Iterator[Port]:
        for name, target in self.outputs.items():
            yield Port(("outputs", name), target)
        yield Port(("next",), self.next)


class ReturnNode(NodeBase):
    """Ends the flow; in a function flow, with a named `output` and a `value` for the caller."""

    type: Literal["return"]
    output: OutputName | None = None
    value: JsonValue = None


# WhatsApp

MAX_TEMPLATE_PARAMS = 30


class WhatsAppTemplateNode(NodeBase):
    """Sends an approved WhatsApp message template (`name` in `language`), then goes on.

    `params` fill the template in, by the names `/whatsapp-template/list` shows (`BODY_{{1}}`,
    `HEADER_IMAGE`, `URL_1`; `QUICK_REPLY_1` names the sub flow its button starts); values may
    hold {{templates}}. A template is the one message WhatsApp delivers outside its 24-hour
    window, so a flow that starts with one reaches subscribers who have not written lately.
    Other channels get the template's body text.
    """

    type: Literal["whatsapp_template"]
    template_name: Annotated[str, Field(pattern=TEMPLATE_NAME_PATTERN, examples=["order_shipped"])]
    language: Annotated[str, Field(min_length=2, max_length=16, examples=["en_US"])]
    params: dict[
        Annotated[str, Field(pattern=TEMPLATE_PARAM_PATTERN)],
        Annotated[str, Field(max_length=1024)],
    ] = Field(
        default={}, max_length=MAX_TEMPLATE_PARAMS, examples=[{"BODY_{{1}}": "{{first_name}}"}]
    )
    next: Next = None

    def ports(self) -> Iterator[Port]:
        yield Port(("next",), self.next)


# The shop


class ProductsNode(NodeBase):
    """Shows the shop's active products as a gallery, a card for each variant with a button
    that puts it in the cart; a press goes on at `added`. Without any product to show, goes on
    at `empty`. `product_type` and `tag` (names) narrow the products shown."""

    type: Literal["products"]
    product_type: Annotated[str, Field(min_length=1, max_length=255)] | None = None
    tag: Annotated[str, Field(min_length=1, max_length=255)] | None = None
    limit: int = Field(default=MAX_CARDS, ge=1, le=MAX_CARDS)
    button_title: Title = "Add to cart"
    added: Next = None
    empty: Next = None

    def ports(self) -> Iterator[Port]:
        yield Port(("added",), self.added)
        yield Port(("empty",), self.empty)


class CartNode(NodeBase):
    """Shows the subscriber's cart and its total, offering to check out (`checkout`) or to go on
    shopping (`more`); an empty cart goes on at `empty`."""

    type: Literal["cart"]
    checkout_title: Title = "Check out"
    more_title: Title = "Keep shopping"
    checkout: Next = None
    more: Next = None
    empty: Next = None

    def ports(self) -> Iterator[Port]:
        yield Port(("checkout",), self.checkout)
        yield Port(("more",), self.more)
        yield Port(("empty",), self.empty)


class CheckoutNode(NodeBase):
    """Turns the cart into an order, with `{{order_id}}` and `{{order_total}}` set for what
    follows; goes on at `failed`, with `{{checkout_error}}`, when the cart is empty or stock ran
    out. The order is `ordered` (paid on collection or delivery) unless `status` says `paid`."""

    type: Literal["checkout"]
    payment_method: Annotated[str, Field(min_length=1, max_length=64)] = "cash"
    shipping_method: Literal["pickup", "delivery"] = "pickup"
    status: Literal["ordered", "paid"] = "ordered"
    next: Next = None
    failed: Next = None

    def ports(self) -> Iterator[Port]:
        yield Port(("next",), self.next)
        yield Port(("failed",), self.failed)


# Knowledge

MAX_SOURCES = 10


class KnowledgeAnswerNode(NodeBase):
    """Answers `question` (by default what the subscriber last said) from the workspace's
    knowledge base: its `top_k` rows nearest in meaning that score `min_score` or more (cosine
    similarity, 0 to 1) are given to an OpenAI-compatible chat model with `instructions`, and
    the model's reply is sent, logged with the rows it came from, and kept in `var_ns` if set.
    Goes on at `next`; at `no_answer`, with `{{knowledge_error}}` set, when no row is near
    enough or the service fails (without `no_answer`, at `next`)."""

    type: Literal["knowledge_answer"]
    question: Text = "{{last_input}}"
    instructions: Annotated[str, Field(max_length=4096)] | None = None
    top_k: int = Field(default=3, ge=1, le=MAX_SOURCES)
    min_score: float = Field(default=0.3, ge=0, le=1)
    var_ns: VarNs | None = None
    next: Next = None
    no_answer: Next = None

    def ports(self) -> Iterator[Port]:
        yield Port(("next",), self.next)
        yield Port(("no_answer",), self.no_answer)


Node = Annotated[
    SendMessageNode
    | ActionNode
    | ConditionNode
    | UserInputNode
    | RandomizerNode
    | DelayNode
    | GoToNode
    | StartFlowNode
    | ReturnNode
    | ProductsNode
    | CartNode
    | CheckoutNode
    | WhatsAppTemplateNode
    | KnowledgeAnswerNode,
    Field(discriminator="type"),
]
NODE_TYPES: dict[str, type[NodeBase]] = {
    get_args(model.model_fields["type"].annotation)[0]: model
    for model in get_args(get_args(Node)[0])
}


KeywordMatch = Literal["exact", "contains", "starts_with"]
MAX_TRIGGERS = 10
MAX_KEYWORDS = 20


class KeywordTrigger(_Part):
    """Starts the flow when a subscriber's message is (`exact`), contains, or starts with one of
    `keywords`, ignoring case and extra spaces. An exact match wins over the others."""

    keywords: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        min_length=1, max_length=MAX_KEYWORDS
    )
    match: KeywordMatch = "exact"


OrderStatus = Literal[
    "paid", "ordered", "processing", "shipped", "completed", "cancelled", "refunded"
]


class OrderStatusTrigger(_Part):
    """Starts the flow for a subscriber whose order moves to one of `order_status` (placing an
    order moves it to `ordered` or `paid`), with `{{order_id}}`, `{{order_status}}` and
    `{{order_total}}` set."""

    order_status: list[OrderStatus] = Field(min_length=1, max_length=7)


class AppTrigger(_Part):
    """Starts the flow when the installed mini-app `app_ns` fires its trigger `trigger_name`
    for a subscriber (`POST /subscriber/app-trigger`), with the keys of the context it sends
    set as variables (`{{product_id}}`)."""

    app_ns: AppNs
    trigger_name: AppTriggerName


Trigger = KeywordTrigger | OrderStatusTrigger | AppTrigger


class FlowDefinition(_Part):
    """A flow document, version 1.

    `start` names the first node (null: the flow does nothing yet). Node ids are unique in the
    document, and every port names one of its nodes or is null, which ends the flow. A workflow
    runs in the background, so it has no send_message or user_input nodes; only a function flow's
    return nodes carry an `output` and a `value`.
    """

    model_config = ConfigDict(title="Flow document")

    version: Literal[1]
    start: NodeId | None = None
    nodes: list[Node] = Field(max_length=MAX_NODES)
    triggers: list[Trigger] = Field(default=[], max_length=MAX_TRIGGERS)


def flow_schema() -> dict[str, Any]:
    """The JSON Schema of a flow document."""
    return copy.deepcopy(_schema())


@functools.cache
def _schema() -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **FlowDefinition.model_json_schema(),
    }
