"""The variables a flow's templates can use for one subscriber.

Names: the subscriber's own details (`first_name`, `last_name`, `name`, `email`, `phone`,
`gender`, `language`, `locale`, `timezone`, `user_id`, `user_ns`, `last_input`); each user field
by its id (`f1v3`) and by its name made template-safe (`Favourite colour` becomes
`favourite_colour`); each bot field as `bot.<name>` and by its id; and the run's own variables
(given to send-sub-flow-by-flow-name, or an inbound webhook's `webhook.<key>`), which win.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from konversation.flows.models import FieldScope
from konversation.ids import Kind, format_ns
from konversation.runtime.lookups import Lookups
from konversation.subscribers.models import Subscriber

_UNSAFE = re.compile(r"[^A-Za-z0-9_]+")

_DETAILS = (
    "first_name",
    "last_name",
    "name",
    "email",
    "phone",
    "gender",
    "language",
    "locale",
    "timezone",
    "user_id",
)


def template_name(name: str) -> str:
    """A field's name as templates write it: `Favourite colour` is `favourite_colour`."""
    return _UNSAFE.sub("_", name).strip("_").lower()


async def variables_for(
    lookups: Lookups, subscriber: Subscriber, own: Mapping[str, Any]
) -> dict[str, Any]:
    found: dict[str, Any] = {name: getattr(subscriber, name) for name in _DETAILS}
    found["user_ns"] = format_ns(subscriber.bot_id, Kind.SUBSCRIBER, subscriber.number)
    found["last_input"] = subscriber.last_input_text
    values = await lookups.field_values(subscriber)
    # By number, so that of two fields whose names read alike the older one always wins.
    for field in await lookups.fields(subscriber.bot_id):
        ns = format_ns(subscriber.bot_id, Kind.FIELD, field.number)
        value = field.value if field.scope == FieldScope.BOT else values.get(field.id)
        found[ns] = value
        prefix = "bot." if field.scope == FieldScope.BOT else ""
        found.setdefault(prefix + template_name(field.name), value)
        found.setdefault(prefix + field.name, value)
    found.update(own)
    return found
