"""The flow document (version 1): its validator, its JSON Schema, and GET /flow/schema."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from builders import ClientFor, Sessions, Tenant, make_key
from konversation.errors import Invalid
from konversation.flows import service as flows
from konversation.flows.document import FORMAT_VERSION, empty_definition, validate_definition
from konversation.flows.format import NODE_TYPES, FlowDefinition, flow_schema
from konversation.flows.models import FlowKind

Json = dict[str, Any]


def _every_node_type() -> Json:
    """A valid document holding every node type, message type, action and condition."""
    return {
        "version": 1,
        "start": "welcome",
        "nodes": [
            {
                "id": "welcome",
                "type": "send_message",
                "name": "Welcome",
                "position": {"x": 0, "y": 0},
                "messages": [
                    {
                        "type": "text",
                        "text": "Hi {{first_name|there}}!",
                        "buttons": [
                            {
                                "id": "ask",
                                "title": "Tell me more",
                                "action": {"type": "go_to", "node": "ask-email"},
                            },
                            {
                                "id": "site",
                                "title": "Our site",
                                "action": {"type": "url", "url": "https://example.com"},
                            },
                            {
                                "id": "call",
                                "title": "Call us",
                                "action": {"type": "phone", "phone": "+15550100"},
                            },
                        ],
                    },
                    {"type": "image", "url": "https://example.com/a.png", "caption": "Look"},
                    {"type": "file", "url": "{{bot.price_list_url}}"},
                    {"type": "audio", "url": "https://example.com/a.mp3"},
                    {"type": "video", "url": "https://example.com/a.mp4"},
                    {
                        "type": "cards",
                        "cards": [
                            {
                                "title": "Shoes",
                                "subtitle": "From 49.90",
                                "image_url": "https://example.com/shoes.png",
                                "buttons": [
                                    {
                                        "id": "shoes",
                                        "title": "Shop shoes",
                                        "action": {"type": "sub_flow", "sub_flow_ns": "f1s2"},
                                    }
                                ],
                            },
                            {"title": "Hats"},
                        ],
                    },
                ],
                "quick_replies": [
                    {"id": "yes", "title": "Yes", "next": "check"},
                    {"id": "no", "title": "No", "next": None},
                ],
                "next": "check",
            },
            {
                "id": "check",
                "type": "condition",
                "position": {"x": 0, "y": 200.5},
                "branches": [
                    {
                        "id": "vip",
                        "match": "any",
                        "conditions": [
                            {"subject": {"type": "tag", "tag_ns": "f1t1"}, "operator": "has"},
                            {
                                "subject": {"type": "field", "var_ns": "f1v1"},
                                "operator": "gte",
                                "value": 18,
                            },
                            {
                                "subject": {"type": "bot_field", "var_ns": "f1v2"},
                                "operator": "is_set",
                            },
                        ],
                        "next": "ask-email",
                    },
                    {
                        "id": "office-hours",
                        "conditions": [
                            {"subject": {"type": "channel"}, "operator": "eq", "value": "whatsapp"},
                            {
                                "subject": {"type": "time", "timezone": "Europe/Berlin"},
                                "operator": "weekday_in",
                                "value": ["monday", "friday"],
                            },
                            {
                                "subject": {"type": "time"},
                                "operator": "between",
                                "value": {"start": "22:00", "end": "06:00"},
                            },
                        ],
                        "next": "pick",
                    },
                ],
                "else": "work",
            },
            {
                "id": "ask-email",
                "type": "user_input",
                "question": [{"type": "text", "text": "Your email, please?"}],
                "var_ns": "f1v3",
                "input_type": "email",
                "retries": 3,
                "retry_message": "That does not look like an email address.",
                "timeout_minutes": 60,
                "next": "work",
                "invalid": "pick",
                "timeout": None,
            },
            {
                "id": "ask-size",
                "type": "user_input",
                "question": "Which size?",
                "input_type": "choice",
                "choices": ["S", "M", "L"],
            },
            {
                "id": "work",
                "type": "action",
                "actions": [
                    {"type": "add_tag", "tag_ns": "f1t1"},
                    {"type": "remove_tag", "tag_ns": "f1t2"},
                    {"type": "set_field", "var_ns": "f1v1", "value": "{{f1v3}}"},
                    {"type": "set_field", "var_ns": "f1v4", "value": ["a", 1, True]},
                    {"type": "clear_field", "var_ns": "f1v5"},
                    {"type": "set_bot_field", "var_ns": "f1v2", "value": 10.5},
                    {"type": "subscribe"},
                    {"type": "unsubscribe"},
                    {"type": "pause_bot", "minutes": 60},
                    {
                        "type": "log_event",
                        "event_name": "signed_up",
                        "text_value": "{{user.email}}",
                        "number_value": 1,
                        "price_value": "{{f1v6}}",
                    },
                    {
                        "type": "http_request",
                        "method": "POST",
                        "url": "https://api.example.com/leads",
                        "headers": {"X-Api-Key": "secret"},
                        "body": {"email": "{{user.email}}", "tags": ["a"]},
                        "timeout_seconds": 5,
                        "save": [{"path": "data.items.0.id", "var_ns": "f1v7"}],
                        "on_error": "wait",
                    },
                    {
                        "type": "notify_webhook",
                        "url": "https://hooks.example.com/x",
                        "payload": {"source": "bot"},
                    },
                ],
                "next": "pick",
            },
            {
                "id": "pick",
                "type": "randomizer",
                "branches": [
                    {"id": "a", "weight": 70, "next": "wait"},
                    {"id": "b", "weight": 30, "next": "wait-until"},
                ],
            },
            {"id": "wait", "type": "delay", "minutes": 30, "next": "call"},
            {"id": "wait-until", "type": "delay", "until": "2030-01-31T09:00:00+01:00"},
            {"id": "wait-for-date", "type": "delay", "until": "{{f1v8}}", "next": "loop"},
            {"id": "loop", "type": "go_to", "node": "welcome"},
            {
                "id": "call",
                "type": "start_flow",
                "sub_flow_ns": "f1s1",
                "outputs": {"ok": "done", "failed": None},
                "next": "done",
            },
            {"id": "done", "type": "return", "output": "ok", "value": {"score": 3}},
            {"id": "draft", "type": "return", "name": "Not connected yet"},
            {
                "id": "shop",
                "type": "products",
                "product_type": "Mugs",
                "tag": "New",
                "limit": 5,
                "button_title": "Buy",
                "added": "cart",
                "empty": "done",
            },
            {
                "id": "cart",
                "type": "cart",
                "checkout_title": "Pay",
                "more_title": "More",
                "checkout": "checkout",
                "more": "shop",
                "empty": "shop",
            },
            {
                "id": "checkout",
                "type": "checkout",
                "payment_method": "card",
                "shipping_method": "delivery",
                "status": "paid",
                "next": "done",
                "failed": "cart",
            },
            {
                "id": "notify",
                "type": "whatsapp_template",
                "template_name": "order_shipped",
                "language": "en_US",
                "params": {"BODY_{{1}}": "{{first_name}}", "QUICK_REPLY_1": "f1s2"},
                "next": "done",
            },
            {
                "id": "ask-knowledge",
                "type": "knowledge_answer",
                "question": "{{last_input}}",
                "instructions": "Answer in one sentence.",
                "top_k": 2,
                "min_score": 0.4,
                "var_ns": "f1v2",
                "next": "done",
                "no_answer": "shop",
            },
        ],
        "triggers": [
            {"keywords": ["hello", "hi there"], "match": "exact"},
            {"keywords": ["price"], "match": "contains"},
            {"order_status": ["shipped", "completed"]},
        ],
    }


def _small(*nodes: Json, start: str | None = "n1") -> Json:
    return {"version": 1, "start": start, "nodes": list(nodes)}


def _text(node_id: str = "n1", text: str = "Hello", **extra: Any) -> Json:
    return {
        "id": node_id,
        "type": "send_message",
        "messages": [{"type": "text", "text": text}],
        **extra,
    }


def _errors(document: Any, **kwargs: Any) -> dict[str, list[str]]:
    with pytest.raises(Invalid) as refused:
        validate_definition(document, **kwargs)
    return refused.value.errors


class TestValidDocuments:
    def test_a_document_with_every_node_type_passes_unchanged(self) -> None:
        document = _every_node_type()
        assert validate_definition(document) is document
        assert document == _every_node_type()
        covered = {node["type"] for node in document["nodes"]}
        assert covered == set(NODE_TYPES)

    def test_the_models_read_it_and_give_it_back(self) -> None:
        parsed = FlowDefinition.model_validate(_every_node_type())
        assert parsed.model_dump(exclude_unset=True) == _every_node_type()

    @pytest.mark.parametrize("kind", list(FlowKind))
    def test_the_empty_definition_passes_for_every_kind(self, kind: FlowKind) -> None:
        assert empty_definition() == {"version": FORMAT_VERSION, "start": None, "nodes": []}
        assert validate_definition(empty_definition(), kind=kind) == empty_definition()

    def test_start_may_be_missing_or_null_while_nodes_exist(self) -> None:
        validate_definition({"version": 1, "nodes": [_text()]})
        validate_definition(_small(_text(), start=None))

    def test_nodes_no_port_leads_to_are_kept_as_drafts(self) -> None:
        validate_definition(
            _small(_text(), _text("n2"), {"id": "n3", "type": "go_to", "node": "n2"})
        )

    def test_a_port_may_lead_back_to_its_own_node(self) -> None:
        validate_definition(
            _small(
                {
                    "id": "n1",
                    "type": "user_input",
                    "question": "Your age?",
                    "input_type": "number",
                    "invalid": "n1",
                }
            )
        )

    def test_button_ids_may_repeat_across_nodes(self) -> None:
        reply = {"quick_replies": [{"id": "yes", "title": "Yes"}]}
        validate_definition(_small(_text(**reply), _text("n2", **reply)))


# Mistakes: the path of each problem (under `definition`) and its sentence.

Mutation = Callable[[Json], None]


def _node(index: int, **fields: Any) -> Mutation:
    def mutate(document: Json) -> None:
        document["nodes"][index].update(fields)

    return mutate


def _drop(index: int, *keys: str) -> Mutation:
    def mutate(document: Json) -> None:
        for key in keys:
            del document["nodes"][index][key]

    return mutate


def _replace(index: int, node: Any) -> Mutation:
    def mutate(document: Json) -> None:
        document["nodes"][index] = node

    return mutate


def _in_message(**fields: Any) -> Mutation:
    def mutate(document: Json) -> None:
        document["nodes"][0]["messages"][0].update(fields)

    return mutate


def _condition(condition: Json) -> Mutation:
    return _replace(
        1,
        {
            "id": "check",
            "type": "condition",
            "branches": [{"id": "b1", "conditions": [condition], "next": "welcome"}],
        },
    )


def _button(action: Json) -> Json:
    return {"id": "b", "title": "Go", "action": action}


W = 'Node "welcome" (send_message)'
C = 'Node "check" (condition)'
ASK = 'Node "ask-email" (user_input)'
WORK = 'Node "work" (action)'

MISTAKES: list[tuple[str, Mutation, dict[str, list[str]]]] = [
    (
        "a message without text",
        _in_message(text=None),
        {"nodes.0.messages.0.text": [f"{W}: the text of message 1 must be text."]},
    ),
    (
        "an empty text",
        _in_message(text=""),
        {"nodes.0.messages.0.text": [f"{W}: the text of message 1 is required."]},
    ),
    (
        "a misspelt field",
        _in_message(txt="Hi"),
        {"nodes.0.messages.0.txt": [f'{W}: the field "txt" of message 1 is unknown.']},
    ),
    (
        "a misspelt node field",
        _node(0, nxt="check"),
        {"nodes.0.nxt": [f'{W}: the field "nxt" is unknown.']},
    ),
    (
        "an unknown message type",
        _in_message(type="gif"),
        {
            "nodes.0.messages.0": [
                f'{W}: message 1 has an unknown type "gif": '
                "use text, image, file, audio, video or cards."
            ]
        },
    ),
    (
        "a message without type",
        _node(0, messages=[{"text": "Hi"}]),
        {"nodes.0.messages.0": [f"{W}: message 1 needs a type."]},
    ),
    (
        "no messages",
        _node(0, messages=[]),
        {"nodes.0.messages": [f"{W}: the messages must have at least 1 item."]},
    ),
    (
        "eleven messages",
        _node(0, messages=[{"type": "text", "text": "Hi"}] * 11),
        {"nodes.0.messages": [f"{W}: the messages must not have more than 10 items."]},
    ),
    (
        "four buttons",
        _in_message(
            buttons=[
                {"id": f"b{i}", "title": "Go", "action": {"type": "go_to", "node": "check"}}
                for i in range(4)
            ]
        ),
        {
            "nodes.0.messages.0.buttons": [
                f"{W}: the buttons of message 1 must not have more than 3 items."
            ]
        },
    ),
    (
        "twelve quick replies",
        _node(0, quick_replies=[{"id": f"q{i}", "title": "Q"} for i in range(12)]),
        {"nodes.0.quick_replies": [f"{W}: the quick_replies must not have more than 11 items."]},
    ),
    (
        "eleven cards",
        _node(0, messages=[{"type": "cards", "cards": [{"title": "A"}] * 11}]),
        {
            "nodes.0.messages.0.cards": [
                f"{W}: the cards of message 1 must not have more than 10 items."
            ]
        },
    ),
    (
        "a card button of an unknown action",
        _node(
            0,
            messages=[
                {"type": "cards", "cards": [{"title": "A", "buttons": [_button({"type": "buy"})]}]}
            ],
        ),
        {
            "nodes.0.messages.0.cards.0.buttons.0.action": [
                f'{W}: the action of button 1 of card 1 of message 1 has an unknown type "buy": '
                "use go_to, url, sub_flow or phone."
            ]
        },
    ),
    (
        "a web address that is none",
        _in_message(buttons=[_button({"type": "url", "url": "ftp://example.com"})]),
        {
            "nodes.0.messages.0.buttons.0.action.url": [
                f"{W}: the url of the action of button 1 of message 1 must be a web address "
                "starting with https:// or http://, or a {{template}}."
            ]
        },
    ),
    (
        "a phone number that is none",
        _in_message(buttons=[_button({"type": "phone", "phone": "call me"})]),
        {
            "nodes.0.messages.0.buttons.0.action.phone": [
                f"{W}: the phone of the action of button 1 of message 1 must be a phone number "
                "of 3 to 20 digits, optionally after a +, or a {{template}}."
            ]
        },
    ),
    (
        "a sub flow id that is none",
        _in_message(buttons=[_button({"type": "sub_flow", "sub_flow_ns": "welcome"})]),
        {
            "nodes.0.messages.0.buttons.0.action.sub_flow_ns": [
                f"{W}: the sub_flow_ns of the action of button 1 of message 1 must be a sub flow "
                "id such as f1s1."
            ]
        },
    ),
    (
        "a button leading to no node",
        _in_message(buttons=[_button({"type": "go_to", "node": "nowhere"})]),
        {
            "nodes.0.messages.0.buttons.0.action.node": [
                f'{W}: the node of the action of button 1 of message 1 points to node "nowhere", '
                "which does not exist."
            ]
        },
    ),
    (
        "a quick reply leading to no node",
        _node(0, quick_replies=[{"id": "q", "title": "Q", "next": "nowhere"}]),
        {
            "nodes.0.quick_replies.0.next": [
                f'{W}: the next of quick reply 1 points to node "nowhere", which does not exist.'
            ]
        },
    ),
    (
        "a button and a quick reply of one id",
        _node(0, quick_replies=[{"id": "ask", "title": "Q"}]),
        {
            "nodes.0.quick_replies.0.id": [
                f'{W}: the id "ask" of quick reply 1 is already used by button 1 of message 1.'
            ]
        },
    ),
    (
        "a title too long",
        _node(0, quick_replies=[{"id": "q", "title": "x" * 81}]),
        {
            "nodes.0.quick_replies.0.title": [
                f"{W}: the title of quick reply 1 must not be longer than 80 characters."
            ]
        },
    ),
    (
        "an else leading to no node",
        _node(1, **{"else": "nowhere"}),
        {"nodes.1.else": [f'{C}: the else points to node "nowhere", which does not exist.']},
    ),
    (
        "two branches of one id",
        _node(
            1,
            branches=[
                {
                    "id": "b",
                    "conditions": [
                        {"subject": {"type": "channel"}, "operator": "eq", "value": "web"}
                    ],
                }
            ]
            * 2,
        ),
        {"nodes.1.branches.1.id": [f'{C}: the id "b" of branch 2 is already used by branch 1.']},
    ),
    (
        "a tag condition with a field operator",
        _condition({"subject": {"type": "tag", "tag_ns": "f1t1"}, "operator": "eq"}),
        {
            "nodes.1.branches.0.conditions.0.operator": [
                f"{C}: the operator of condition 1 of branch 1 must be has or has_not."
            ]
        },
    ),
    (
        "a tag id that is a field id",
        _condition({"subject": {"type": "tag", "tag_ns": "f1v1"}, "operator": "has"}),
        {
            "nodes.1.branches.0.conditions.0.subject.tag_ns": [
                f"{C}: the tag_ns of the subject of condition 1 of branch 1 must be a tag id "
                "such as f1t1."
            ]
        },
    ),
    (
        "a subject of an unknown type",
        _condition({"subject": {"type": "weather"}, "operator": "eq", "value": "sunny"}),
        {
            "nodes.1.branches.0.conditions.0": [
                f"{C}: condition 1 of branch 1 needs a subject whose type is tag, field, "
                "bot_field, channel or time."
            ]
        },
    ),
    (
        "a field comparison without value",
        _condition({"subject": {"type": "field", "var_ns": "f1v1"}, "operator": "eq"}),
        {
            "nodes.1.branches.0.conditions.0": [
                f"{C}: condition 1 of branch 1 needs a value for the operator eq."
            ]
        },
    ),
    (
        "is_set with a value",
        _condition(
            {"subject": {"type": "bot_field", "var_ns": "f1v1"}, "operator": "is_set", "value": 1}
        ),
        {
            "nodes.1.branches.0.conditions.0": [
                f"{C}: condition 1 of branch 1 takes no value for the operator is_set."
            ]
        },
    ),
    (
        "a field operator that does not exist",
        _condition(
            {"subject": {"type": "field", "var_ns": "f1v1"}, "operator": "like", "value": 1}
        ),
        {
            "nodes.1.branches.0.conditions.0.operator": [
                f"{C}: the operator of condition 1 of branch 1 must be eq, neq, gt, gte, lt, lte, "
                "contains, not_contains, starts_with, is_set or is_not_set."
            ]
        },
    ),
    (
        "an unknown channel",
        _condition({"subject": {"type": "channel"}, "operator": "eq", "value": "fax"}),
        {
            "nodes.1.branches.0.conditions.0.value": [
                f"{C}: the value of condition 1 of branch 1 must be web, facebook, instagram, "
                "whatsapp, whatsapp_cloud, wechat, telegram, google, slack, line, viber, vk, "
                "voice, sms, rcs, intercom, jivochat, chatwoot or apichat."
            ]
        },
    ),
    (
        "an unknown time zone",
        _condition(
            {
                "subject": {"type": "time", "timezone": "Mars/Olympus"},
                "operator": "weekday_in",
                "value": ["monday"],
            }
        ),
        {
            "nodes.1.branches.0.conditions.0.subject.timezone": [
                f"{C}: the timezone of the subject of condition 1 of branch 1 must be a time zone "
                "such as Europe/Berlin."
            ]
        },
    ),
    (
        "an unknown weekday",
        _condition({"subject": {"type": "time"}, "operator": "weekday_in", "value": ["funday"]}),
        {
            "nodes.1.branches.0.conditions.0.value.0": [
                f"{C}: item 1 of the value of condition 1 of branch 1 must be monday, tuesday, "
                "wednesday, thursday, friday, saturday or sunday."
            ]
        },
    ),
    (
        "a weekday twice",
        _condition(
            {"subject": {"type": "time"}, "operator": "weekday_in", "value": ["monday", "monday"]}
        ),
        {
            "nodes.1.branches.0.conditions.0": [
                f"{C}: condition 1 of branch 1 lists a weekday more than once."
            ]
        },
    ),
    (
        "between with weekdays",
        _condition({"subject": {"type": "time"}, "operator": "between", "value": ["monday"]}),
        {
            "nodes.1.branches.0.conditions.0": [
                f"{C}: condition 1 of branch 1 needs a {{start, end}} time range as its value "
                "for between."
            ]
        },
    ),
    (
        "a time of day that is none",
        _condition(
            {
                "subject": {"type": "time"},
                "operator": "between",
                "value": {"start": "9am", "end": "24:00"},
            }
        ),
        {
            "nodes.1.branches.0.conditions.0.value.start": [
                f"{C}: the start of the value of condition 1 of branch 1 must be a time of day "
                "such as 09:30."
            ],
            "nodes.1.branches.0.conditions.0.value.end": [
                f"{C}: the end of the value of condition 1 of branch 1 must be a time of day "
                "such as 09:30."
            ],
        },
    ),
    (
        "an empty time range",
        _condition(
            {
                "subject": {"type": "time"},
                "operator": "between",
                "value": {"start": "09:00", "end": "09:00"},
            }
        ),
        {
            "nodes.1.branches.0.conditions.0.value": [
                f"{C}: the value of condition 1 of branch 1 must end at another time than it "
                "starts."
            ]
        },
    ),
    (
        "a question that is a number",
        _node(2, question=5),
        {"nodes.2.question": [f"{ASK}: the question must be a text or a list of messages."]},
    ),
    (
        "an empty question text",
        _node(2, question=""),
        {"nodes.2.question": [f"{ASK}: the question is required."]},
    ),
    (
        "a question message without text",
        _node(2, question=[{"type": "text"}]),
        {"nodes.2.question.0.text": [f"{ASK}: the text of message 1 is required."]},
    ),
    (
        "choices without a choice input",
        _node(2, choices=["A"]),
        {"nodes.2": [f"{ASK}: takes choices only when the input_type is choice."]},
    ),
    (
        "a choice input without choices",
        _node(2, input_type="choice"),
        {"nodes.2": [f"{ASK}: needs choices when the input_type is choice."]},
    ),
    (
        "an unknown input type",
        _node(2, input_type="colour"),
        {
            "nodes.2.input_type": [
                f"{ASK}: the input_type must be text, number, email, phone, date, datetime or "
                "choice."
            ]
        },
    ),
    (
        "too many retries and too long a wait",
        _node(2, retries=6, timeout_minutes=10_081),
        {
            "nodes.2.retries": [f"{ASK}: the retries must be at most 5."],
            "nodes.2.timeout_minutes": [f"{ASK}: the timeout_minutes must be at most 10080."],
        },
    ),
    (
        "a count that is text",
        _node(2, retries="3"),
        {"nodes.2.retries": [f"{ASK}: the retries must be a whole number."]},
    ),
    (
        "a user field id that is a name",
        _node(2, var_ns="email"),
        {"nodes.2.var_ns": [f"{ASK}: the var_ns must be a field id such as f1v1."]},
    ),
    (
        "no actions",
        _node(4, actions=[]),
        {"nodes.4.actions": [f"{WORK}: the actions must have at least 1 item."]},
    ),
    (
        "twenty-one actions",
        _node(4, actions=[{"type": "subscribe"}] * 21),
        {"nodes.4.actions": [f"{WORK}: the actions must not have more than 20 items."]},
    ),
    (
        "an unknown action",
        _node(4, actions=[{"type": "send_email"}]),
        {
            "nodes.4.actions.0": [
                f'{WORK}: action 1 has an unknown type "send_email": use add_tag, remove_tag, '
                "set_field, clear_field, set_bot_field, subscribe, unsubscribe, pause_bot, "
                "log_event, http_request, notify_webhook, open_ticket or call_app."
            ]
        },
    ),
    (
        "a field value that is an object",
        _node(4, actions=[{"type": "set_field", "var_ns": "f1v1", "value": {"a": 1}}]),
        {
            "nodes.4.actions.0.value": [
                f"{WORK}: the value of action 1 must be text, a number, true or false, "
                "or a list of those."
            ]
        },
    ),
    (
        "a field value that is missing",
        _node(4, actions=[{"type": "set_bot_field", "var_ns": "f1v1"}]),
        {"nodes.4.actions.0.value": [f"{WORK}: the value of action 1 is required."]},
    ),
    (
        "a pause of no minutes",
        _node(4, actions=[{"type": "pause_bot", "minutes": 0}]),
        {"nodes.4.actions.0.minutes": [f"{WORK}: the minutes of action 1 must be at least 1."]},
    ),
    (
        "an event number that is text",
        _node(4, actions=[{"type": "log_event", "event_name": "x", "number_value": "many"}]),
        {
            "nodes.4.actions.0.number_value": [
                f"{WORK}: the number_value of action 1 must be a number or a {{{{template}}}}."
            ]
        },
    ),
    (
        "a request of many mistakes",
        _node(
            4,
            actions=[
                {
                    "type": "http_request",
                    "method": "FETCH",
                    "url": "https://example.com",
                    "headers": {"Bad Header": "x"},
                    "timeout_seconds": 31,
                    "save": [{"path": "data..id", "var_ns": "f1v1"}],
                    "on_error": "nowhere",
                }
            ],
        ),
        {
            "nodes.4.actions.0.method": [
                f"{WORK}: the method of action 1 must be GET, POST, PUT, PATCH or DELETE."
            ],
            "nodes.4.actions.0.headers.Bad Header": [
                f'{WORK}: the name of header "Bad Header" of action 1 must be a valid header '
                "name such as X-Api-Key."
            ],
            "nodes.4.actions.0.timeout_seconds": [
                f"{WORK}: the timeout_seconds of action 1 must be at most 30."
            ],
            "nodes.4.actions.0.save.0.path": [
                f"{WORK}: the path of save rule 1 of action 1 must be a dotted path into the "
                "answer such as data.items.0.id."
            ],
        },
    ),
    (
        "a request failing to no node",
        _node(
            4,
            actions=[
                {"type": "http_request", "method": "GET", "url": "https://x.io", "on_error": "no"}
            ],
        ),
        {
            "nodes.4.actions.0.on_error": [
                f'{WORK}: the on_error of action 1 points to node "no", which does not exist.'
            ]
        },
    ),
    (
        "a randomizer of one branch",
        _node(5, branches=[{"id": "a", "weight": 100}]),
        {
            "nodes.5.branches": [
                'Node "pick" (randomizer): the branches must have at least 2 items.'
            ]
        },
    ),
    (
        "weights out of range",
        _node(5, branches=[{"id": "a", "weight": 0}, {"id": "b", "weight": 101}]),
        {
            "nodes.5.branches.0.weight": [
                'Node "pick" (randomizer): the weight of branch 1 must be at least 1.'
            ],
            "nodes.5.branches.1.weight": [
                'Node "pick" (randomizer): the weight of branch 2 must be at most 100.'
            ],
        },
    ),
    (
        "a delay of minutes and a moment",
        _node(6, until="2030-01-01T00:00:00"),
        {"nodes.6": ['Node "wait" (delay): needs either minutes or until, not both.']},
    ),
    (
        "a delay of nothing",
        _drop(6, "minutes"),
        {"nodes.6": ['Node "wait" (delay): needs either minutes or until, not both.']},
    ),
    (
        "a delay of too many minutes",
        _node(6, minutes=525_601),
        {"nodes.6.minutes": ['Node "wait" (delay): the minutes must be at most 525600.']},
    ),
    (
        "a moment that is none",
        _node(7, until="next tuesday"),
        {
            "nodes.7.until": [
                'Node "wait-until" (delay): the until must be a date and time such as '
                "2030-01-31T09:00:00+01:00, or a {{template}}."
            ]
        },
    ),
    (
        "a go_to without node",
        _drop(9, "node"),
        {"nodes.9.node": ['Node "loop" (go_to): the node is required.']},
    ),
    (
        "a go_to to no node",
        _node(9, node="nowhere"),
        {
            "nodes.9.node": [
                'Node "loop" (go_to): the node points to node "nowhere", which does not exist.'
            ]
        },
    ),
    (
        "an output leading to no node",
        _node(10, outputs={"ok": "nowhere"}),
        {
            "nodes.10.outputs.ok": [
                'Node "call" (start_flow): output "ok" points to node "nowhere", '
                "which does not exist."
            ]
        },
    ),
    (
        "a sub flow that is missing",
        _drop(10, "sub_flow_ns"),
        {"nodes.10.sub_flow_ns": ['Node "call" (start_flow): the sub_flow_ns is required.']},
    ),
    (
        "a position of text",
        _node(0, position={"x": "left", "y": 0}),
        {"nodes.0.position.x": [f"{W}: the x of the position must be a number."]},
    ),
    (
        "an unknown node type",
        _node(6, type="wait"),
        {
            "nodes.6.type": [
                'Node "wait": the type "wait" is unknown: use send_message, action, condition, '
                "user_input, randomizer, delay, go_to, start_flow, return, products, cart, "
                "checkout, whatsapp_template or knowledge_answer."
            ]
        },
    ),
    (
        "a node without type",
        _drop(6, "type"),
        {
            "nodes.6.type": [
                'Node "wait": the type is required: use send_message, action, condition, '
                "user_input, randomizer, delay, go_to, start_flow, return, products, cart, "
                "checkout, whatsapp_template or knowledge_answer."
            ]
        },
    ),
    (
        "a node without id",
        _drop(12, "id"),
        {"nodes.12.id": ["Node #13 (return): the id is required."]},
    ),
    (
        "an id of odd characters",
        _node(12, id="my node"),
        {
            "nodes.12.id": [
                'Node "my node" (return): the id must be made of letters, digits, hyphens and '
                "underscores."
            ]
        },
    ),
    (
        "an id used twice",
        _node(12, id="welcome"),
        {"nodes.12.id": ['Node "welcome" (return): the id "welcome" is already used by node #1.']},
    ),
    (
        "a node that is no object",
        _replace(12, ["return"]),
        {"nodes.12": ["The definition.nodes.12 field must be an object."]},
    ),
]


class TestMistakes:
    @pytest.mark.parametrize(
        ("mutate", "expected"), [(m, e) for _n, m, e in MISTAKES], ids=[n for n, _m, _e in MISTAKES]
    )
    def test_each_is_named_at_its_place(
        self, mutate: Mutation, expected: dict[str, list[str]]
    ) -> None:
        document = _every_node_type()
        mutate(document)
        assert _errors(document) == {f"definition.{k}": v for k, v in expected.items()}

    def test_every_problem_is_reported_at_once(self) -> None:
        document = _every_node_type()
        document["start"] = "nowhere"
        document["nodes"][0]["messages"][0]["text"] = ""
        document["nodes"][6]["minutes"] = 0
        document["nodes"][9]["node"] = "gone"
        with pytest.raises(Invalid) as refused:
            validate_definition(document)
        assert list(refused.value.errors) == [
            "definition.nodes.0.messages.0.text",
            "definition.nodes.6.minutes",
            "definition.nodes.9.node",
            "definition.start",
        ]
        assert refused.value.message == (
            f"{W}: the text of message 1 is required. (and 3 more errors)"
        )

    def test_paths_start_with_the_given_path(self) -> None:
        errors = _errors(_small(_text(text="")), path="flows.2.definition")
        assert errors == {
            "flows.2.definition.nodes.0.messages.0.text": [
                'Node "n1" (send_message): the text of message 1 is required.'
            ]
        }

    def test_the_example_of_the_brief(self) -> None:
        document = _small(
            _text("a"), _text("b"), _text("c"), _text("ask-email", text=""), start="a"
        )
        assert _errors(document) == {
            "definition.nodes.3.messages.0.text": [
                'Node "ask-email" (send_message): the text of message 1 is required.'
            ]
        }


class TestTheEnvelope:
    @pytest.mark.parametrize(
        ("document", "expected"),
        [
            ("flow", {"definition": ["The definition field must be an object."]}),
            ([], {"definition": ["The definition field must be an object."]}),
            (
                {"nodes": []},
                {"definition.version": ["The definition.version field is required."]},
            ),
            (
                {"version": 2, "nodes": []},
                {"definition.version": ["The definition.version field must be 1."]},
            ),
            (
                {"version": True, "nodes": []},
                {"definition.version": ["The definition.version field must be 1."]},
            ),
            ({"version": 1}, {"definition.nodes": ["The definition.nodes field is required."]}),
            (
                {"version": 1, "nodes": {"n1": {}}},
                {"definition.nodes": ["The definition.nodes field must be an array."]},
            ),
            (
                {"version": 1, "nodes": [], "start": 1},
                {"definition.start": ["The definition.start field must be a node id or null."]},
            ),
            (
                {"version": 1, "nodes": [], "start": "n1"},
                {
                    "definition.start": [
                        'The definition.start field names node "n1", which does not exist.'
                    ]
                },
            ),
            (
                {"version": 1, "nodes": [], "strat": "n1"},
                {
                    "definition.strat": [
                        "The definition.strat field is not part of a flow document."
                    ]
                },
            ),
        ],
    )
    def test_refuses_a_malformed_document(self, document: Any, expected: Json) -> None:
        assert _errors(document) == expected

    def test_a_thousand_nodes_at_most(self) -> None:
        nodes = [{"id": f"n{i}", "type": "go_to", "node": "n0"} for i in range(1000)]
        validate_definition(_small(*nodes, start="n0"))
        nodes.append({"id": "n1000", "type": "go_to", "node": "n0"})
        assert _errors(_small(*nodes, start="n0")) == {
            "definition.nodes": ["The definition.nodes field must not have more than 1000 items."]
        }


class TestFlowKinds:
    def _talking(self) -> Json:
        ask = {"id": "n2", "type": "user_input", "question": "Why?"}
        return _small(
            _text(next="n2"),
            ask,
            {"id": "n3", "type": "action", "actions": [{"type": "subscribe"}]},
        )

    def test_a_workflow_may_not_send_messages_or_wait_for_answers(self) -> None:
        assert _errors(self._talking(), kind=FlowKind.WORKFLOW) == {
            "definition.nodes.0.type": [
                'Node "n1" (send_message): a workflow runs in the background, so it cannot send '
                "messages."
            ],
            "definition.nodes.1.type": [
                'Node "n2" (user_input): a workflow runs in the background, so it cannot wait '
                "for an answer."
            ],
        }

    @pytest.mark.parametrize("kind", [FlowKind.MAIN, FlowKind.SUB, FlowKind.FUNCTION, None])
    def test_other_flows_may(self, kind: FlowKind | None) -> None:
        validate_definition(self._talking(), kind=kind)

    @pytest.mark.parametrize(
        ("kind", "words"),
        [
            (FlowKind.MAIN, "the main flow"),
            (FlowKind.SUB, "a sub flow"),
            (FlowKind.WORKFLOW, "a workflow"),
        ],
    )
    def test_only_a_function_flow_returns_a_result(self, kind: FlowKind, words: str) -> None:
        document = _small({"id": "n1", "type": "return", "output": "ok", "value": 3})
        assert _errors(document, kind=kind) == {
            f"definition.nodes.0.{key}": [
                f'Node "n1" (return): only a function flow returns a result, so a return node in '
                f"{words} takes no {key}."
            ]
            for key in ("output", "value")
        }

    @pytest.mark.parametrize("kind", [FlowKind.FUNCTION, None])
    def test_a_function_flow_returns_outputs(self, kind: FlowKind | None) -> None:
        validate_definition(
            _small({"id": "n1", "type": "return", "output": "ok", "value": 3}), kind=kind
        )

    @pytest.mark.parametrize("kind", list(FlowKind))
    def test_any_flow_may_end_with_a_plain_return(self, kind: FlowKind) -> None:
        validate_definition(_small({"id": "n1", "type": "return"}), kind=kind)


class TestFlowSchema:
    async def test_answers_the_schema_of_a_flow_document(self, api: httpx.AsyncClient) -> None:
        response = await api.get("/flow/schema")
        assert response.status_code == 200
        body = response.json()
        assert body == {"data": flow_schema(), "status": "ok"}
        schema = body["data"]
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["type"] == "object"
        assert schema["additionalProperties"] is False
        assert set(schema["required"]) == {"version", "nodes"}
        assert schema["properties"]["version"]["const"] == 1
        assert schema["properties"]["nodes"]["maxItems"] == 1000

    async def test_names_every_node_type_and_refuses_unknown_keys(
        self, api: httpx.AsyncClient
    ) -> None:
        schema = (await api.get("/flow/schema")).json()["data"]
        nodes = schema["properties"]["nodes"]["items"]
        mapping = nodes["discriminator"]["mapping"]
        assert set(mapping) == set(NODE_TYPES)
        for node_type, ref in mapping.items():
            node = schema["$defs"][ref.rsplit("/", 1)[-1]]
            assert node["properties"]["type"]["const"] == node_type
            assert {"id", "type"} <= set(node["required"])
            assert {"name", "position"} <= set(node["properties"])
        closed = [
            d for d in schema["$defs"].values() if d.get("type") == "object" and "properties" in d
        ]
        assert all(d["additionalProperties"] is False for d in closed)

    async def test_carries_the_limits(self, api: httpx.AsyncClient) -> None:
        defs = (await api.get("/flow/schema")).json()["data"]["$defs"]
        send = defs["SendMessageNode"]["properties"]
        assert (send["messages"]["minItems"], send["messages"]["maxItems"]) == (1, 10)
        assert send["quick_replies"]["maxItems"] == 11
        assert defs["TextMessage"]["properties"]["buttons"]["maxItems"] == 3
        assert defs["CardsMessage"]["properties"]["cards"]["maxItems"] == 10
        assert defs["ActionNode"]["properties"]["actions"]["maxItems"] == 20
        timeout = defs["HttpRequestAction"]["properties"]["timeout_seconds"]
        assert (timeout["minimum"], timeout["maximum"]) == (1, 30)
        weight = defs["RandomBranch"]["properties"]["weight"]
        assert (weight["minimum"], weight["maximum"]) == (1, 100)
        assert "else" in defs["ConditionNode"]["properties"]

    async def test_the_example_document_fits_the_models_behind_it(self) -> None:
        FlowDefinition.model_validate(_every_node_type())
        assert FlowDefinition.model_json_schema()["properties"].keys() == (
            flow_schema()["properties"].keys()
        )

    async def test_is_published_with_the_operations(self, client: httpx.AsyncClient) -> None:
        spec = (await client.get("/api-docs")).json()
        operation = spec["paths"]["/flow/schema"]["get"]
        assert operation["tags"] == ["Flow"]
        assert {"200", "401", "403"} <= set(operation["responses"])

    async def test_without_a_key_answers_401(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/flow/schema")
        assert response.status_code == 401
        assert response.json() == {"message": "Unauthenticated."}

    async def test_a_key_without_manage_flow_answers_403(
        self,
        client_for: ClientFor,
        session: AsyncSession,
        server_secret: bytes,
        tenant: Tenant,
    ) -> None:
        token = await make_key(session, server_secret, tenant, permissions=["Manage Team"])
        response = await client_for(token).get("/flow/schema")
        assert response.status_code == 403
        assert response.json()["message"]


class TestBadDefinitionsAreRefused:
    async def test_an_import_names_the_node_and_stores_nothing(
        self, api: httpx.AsyncClient, sessions: Sessions, tenant: Tenant
    ) -> None:
        broken = _every_node_type()
        broken["nodes"][0]["messages"][0]["text"] = ""
        document = {
            "format": "konversation.flow",
            "version": 1,
            "bot": {"name": "Shop", "flow_ns": "f99"},
            "flows": [
                {"name": "Good", "kind": "function", "definition": _every_node_type()},
                {"name": "Broken", "kind": "function", "definition": broken},
            ],
        }
        response = await api.post("/flow/import", json=document)
        assert response.status_code == 422
        message = f"{W}: the text of message 1 is required."
        assert response.json() == {
            "message": message,
            "errors": {"flows.1.definition.nodes.0.messages.0.text": [message]},
        }
        listed = (await api.get("/flow/subflows")).json()
        assert listed["data"] == []

    async def test_an_import_of_valid_definitions_is_taken(self, api: httpx.AsyncClient) -> None:
        document = {
            "format": "konversation.flow",
            "version": 1,
            "bot": {"name": "Shop", "flow_ns": "f99"},
            "flows": [{"name": "Good", "kind": "function", "definition": _every_node_type()}],
        }
        response = await api.post("/flow/import", json=document)
        assert response.status_code == 200, response.text
        exported = (await api.get("/flow/export")).json()["data"]
        good = next(f for f in exported["flows"] if f["name"] == "Good")
        assert good["definition"] == _every_node_type()

    async def test_creating_a_flow_names_the_node(
        self, session: AsyncSession, tenant: Tenant
    ) -> None:
        with pytest.raises(Invalid) as refused:
            await flows.create_flow(
                session,
                tenant.bot_id,
                name="Broken",
                definition=_small(_text(next="gone")),
            )
        assert refused.value.errors == {
            "definition.nodes.0.next": [
                'Node "n1" (send_message): the next points to node "gone", which does not exist.'
            ]
        }


class TestDocumentedExamples:
    async def test_the_import_example_in_the_api_docs_imports(self, api: httpx.AsyncClient) -> None:
        from konversation.flows.routes import IMPORT_EXAMPLE

        response = await api.post("/flow/import", json=IMPORT_EXAMPLE)
        assert response.status_code == 200, response.text
