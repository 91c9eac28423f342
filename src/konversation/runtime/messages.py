"""A node's messages as channel messages, and the payloads their buttons send back.

A button or quick reply that leads somewhere sends back `kv:<node number>:<item id>`: the
number is the node's bot-wide number (`f<bot>n<number>`), so a press finds its node in the
flow as it is now, even long after the message was sent. Ids too long for the 64 bytes some
channels allow are replaced by a digest. `kv:<node number>` alone goes to the node itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from konversation.channels import base as out
from konversation.flows import format as fmt
from konversation.runtime.templates import render

PREFIX = "kv:"
MAX_PAYLOAD_BYTES = 64
_DIGEST = "#"


def node_payload(number: int, item: str | None = None) -> str:
    """What pressing a button of node `number` (or going to the node, without `item`) sends."""
    base = f"{PREFIX}{number}"
    if item is None:
        return base
    full = f"{base}:{item}"
    if len(full.encode()) <= MAX_PAYLOAD_BYTES:
        return full
    return f"{base}{_DIGEST}{_digest(item)}"


@dataclass(frozen=True)
class Press:
    """A payload of ours, read back."""

    number: int
    item: str | None = None
    digest: str | None = None

    def names(self, item_id: str) -> bool:
        if self.digest is not None:
            return self.digest == _digest(item_id)
        return self.item == item_id


def read_payload(payload: str | None) -> Press | None:
    if not payload or not payload.startswith(PREFIX):
        return None
    rest = payload[len(PREFIX) :]
    number, digest = rest.split(_DIGEST, 1) if _DIGEST in rest else (rest, None)
    number, item = number.split(":", 1) if ":" in number else (number, None)
    if not number.isdigit():
        return None
    return Press(int(number), item, digest)


def _digest(item: str) -> str:
    return hashlib.sha256(item.encode()).hexdigest()[:16]


def channel_messages(
    messages: Sequence[fmt.Message],
    *,
    variables: Mapping[str, Any],
    node_number: int,
    quick_replies: Sequence[out.QuickReply] = (),
) -> list[out.FreeForm]:
    """The messages rendered for one subscriber; quick replies go with the last one."""
    converted = [_message(m, variables, node_number) for m in messages]
    if quick_replies and converted:
        last = converted[-1]
        converted[-1] = _with_quick_replies(last, tuple(quick_replies))
    return converted


def _message(message: fmt.Message, variables: Mapping[str, Any], number: int) -> out.FreeForm:
    if isinstance(message, fmt.TextMessage):
        return out.Text(
            render(message.text, variables), _buttons(message.buttons, variables, number)
        )
    if isinstance(message, fmt.MediaMessage):
        caption = render(message.caption, variables) if message.caption else None
        return out.Media(message.type, render(message.url, variables), caption)
    return out.Cards(
        tuple(
            out.Card(
                render(card.title, variables),
                render(card.subtitle, variables) if card.subtitle else None,
                render(card.image_url, variables) if card.image_url else None,
                _buttons(card.buttons, variables, number),
            )
            for card in message.cards
        )
    )


def _buttons(
    buttons: Sequence[fmt.Button], variables: Mapping[str, Any], number: int
) -> tuple[out.Button, ...]:
    return tuple(_button(button, variables, number) for button in buttons)


def _button(button: fmt.Button, variables: Mapping[str, Any], number: int) -> out.Button:
    title = render(button.title, variables)
    action = button.action
    if isinstance(action, fmt.UrlButtonAction):
        return out.Button(title, url=render(action.url, variables))
    if isinstance(action, fmt.PhoneButtonAction):
        return out.Button(title, phone=render(action.phone, variables))
    return out.Button(title, payload=node_payload(number, button.id))


def _with_quick_replies(message: out.FreeForm, replies: tuple[out.QuickReply, ...]) -> out.FreeForm:
    if isinstance(message, out.Text):
        return out.Text(message.text, message.buttons, replies)
    if isinstance(message, out.Media):
        return out.Media(message.kind, message.url, message.caption, message.buttons, replies)
    return out.Cards(message.cards, replies)


def find_button(node: fmt.NodeBase, press: Press) -> fmt.Button | None:
    """The button of `node` that `press` names."""
    messages: list[fmt.Message] = []
    if isinstance(node, fmt.SendMessageNode):
        messages = node.messages
    elif isinstance(node, fmt.UserInputNode) and not isinstance(node.question, str):
        messages = node.question
    for message in messages:
        for _path, button in message.placed_buttons():
            if press.names(button.id):
                return button
    return None


def find_quick_reply(node: fmt.NodeBase, press: Press) -> fmt.QuickReply | None:
    if isinstance(node, fmt.SendMessageNode):
        return next((r for r in node.quick_replies if press.names(r.id)), None)
    return None
