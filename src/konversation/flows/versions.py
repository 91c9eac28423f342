"""A flow's draft, its published versions, the differences between them, and rollback.

The runtime runs `Flow.definition`, the published document. The editor changes the draft
(`Flow.draft`, None while it is the published document itself) as often as it likes, even with
problems; publishing checks the draft with the validator of imports, keeps it as the next
`FlowVersion` and makes it the flow's definition. Every other write of a definition (the API's
import, a template install) publishes too.

Two editors of one flow are told apart by the draft's revision: a save or a publish names the
revision it was based on, and is refused when another save came first.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from konversation.errors import Conflict, Invalid, NotFound
from konversation.flows.document import validate_definition
from konversation.flows.index import index_flow
from konversation.flows.models import Flow, FlowKind, FlowVersion

# Who published a document that came in through an import rather than from someone's editor.
IMPORT: Final = "import"
CHANGED_MEANWHILE: Final = (
    "Someone else changed this flow meanwhile, so yours was not saved. Reload the editor to "
    "see their changes, then make yours again."
)
NOT_PUBLISHABLE: Final = "The draft has problems to fix before it can be published."
# A value shown in a diff is cut to this many characters.
SHOWN_CHARS: Final = 80
_PATH_PREFIX: Final = "definition"


# Problems


@dataclass(frozen=True)
class Problem:
    """One thing the validator refuses: on a node (`path` inside it) or on the document."""

    node_id: str | None
    path: str
    message: str


class Unpublishable(Invalid):
    """The draft does not pass the validator; `problems` says where."""

    def __init__(self, problems: list[Problem], message: str = NOT_PUBLISHABLE) -> None:
        super().__init__({_PATH_PREFIX: [problem.message for problem in problems]}, message)
        self.problems = problems


def problems_of(definition: dict[str, Any], kind: FlowKind) -> list[Problem]:
    """What the validator refuses in `definition`, by node; empty when it may be published."""
    try:
        validate_definition(definition, _PATH_PREFIX, kind=kind)
    except Invalid as refused:
        return problems_from(refused.errors, definition)
    return []


def problems_from(errors: dict[str, list[str]], definition: dict[str, Any]) -> list[Problem]:
    """The validator's errors (keyed like `definition.nodes.3.messages.0.text`) as problems
    naming the node (its id) and the path inside it."""
    nodes = definition.get("nodes")
    found: list[Problem] = []
    for key, messages in errors.items():
        node_id, path = _locate(key, nodes if isinstance(nodes, list) else [])
        found.extend(Problem(node_id, path, message) for message in messages)
    return found


def _locate(key: str, nodes: list[Any]) -> tuple[str | None, str]:
    parts = key.split(".")
    if parts[0] == _PATH_PREFIX:
        parts = parts[1:]
    if len(parts) >= 2 and parts[0] == "nodes" and parts[1].isdigit():
        index = int(parts[1])
        node = nodes[index] if index < len(nodes) else None
        node_id = node.get("id") if isinstance(node, dict) else None
        if isinstance(node_id, str) and node_id:
            return node_id, ".".join(parts[2:])
    return None, ".".join(parts)


# The draft


def draft_of(flow: Flow) -> dict[str, Any]:
    """The document the editor shows: the draft, or the published document when none."""
    return flow.definition if flow.draft is None else flow.draft


async def save_draft(
    session: AsyncSession, flow: Flow, definition: Any, *, revision: int
) -> list[Problem]:
    """Store `definition` as the draft when `revision` is still the draft's; answers what would
    stop it from being published. Conflict when another save came first: nothing is written."""
    if not isinstance(definition, dict) or not isinstance(definition.get("nodes"), list):
        raise Invalid.field("definition", "A draft must be a JSON object with a nodes list.")
    saved = revision + 1
    await _claim(
        session, flow, Flow.draft_revision == revision, draft=definition, draft_revision=saved
    )
    return problems_of(definition, FlowKind(flow.kind))


# Publishing


async def publish(
    session: AsyncSession, flow: Flow, *, revision: int, published_by: str, note: str = ""
) -> FlowVersion:
    """Make the draft (as of `revision`) the published document, as the next version; a
    draft that is the published document already is that version."""
    if flow.draft_revision != revision:
        raise Conflict(CHANGED_MEANWHILE)
    document = draft_of(flow)
    if document == flow.definition and flow.published_version is not None:
        return await get_version(session, flow, flow.published_version)
    problems = problems_of(document, FlowKind(flow.kind))
    if problems:
        raise Unpublishable(problems)
    return await _publish(
        session, flow, document, published_by=published_by, note=note, revision=revision
    )


async def publish_definition(
    session: AsyncSession, flow: Flow, document: dict[str, Any], *, published_by: str
) -> FlowVersion:
    """Publish a document that was checked already (an import's); it replaces the draft."""
    return await _publish(session, flow, document, published_by=published_by, note="")


async def record_first_version(session: AsyncSession, flow: Flow, *, published_by: str) -> None:
    """Version 1 of a new flow: the document it was made with."""
    flow.published_version = 1
    session.add(
        FlowVersion(
            flow_id=flow.id, number=1, definition=flow.definition, published_by=published_by
        )
    )
    await session.flush()


async def rollback(
    session: AsyncSession, flow: Flow, number: int, *, published_by: str
) -> FlowVersion:
    """Publish version `number`'s document again, as a new version; the draft becomes it."""
    earlier = await get_version(session, flow, number)
    problems = problems_of(earlier.definition, FlowKind(flow.kind))
    if problems:
        raise Unpublishable(problems)
    return await _publish(
        session,
        flow,
        earlier.definition,
        published_by=published_by,
        note=f"Rollback to version {number}",
    )


async def _publish(
    session: AsyncSession,
    flow: Flow,
    document: dict[str, Any],
    *,
    published_by: str,
    note: str,
    revision: int | None = None,
) -> FlowVersion:
    """Keep `document` as the next version and make it the flow's definition and draft.

    A publish from the editor (`revision` given) leaves the draft's revision as it is, since
    its draft is what was published; any other publish changes the draft under every editor,
    so it counts as a save."""
    number = (flow.published_version or 0) + 1
    # Of two publishes at once, the second finds the version taken and is refused.
    unchanged = _still_at_version(flow.published_version)
    if revision is None:
        await _claim(
            session,
            flow,
            unchanged,
            draft=None,
            draft_revision=Flow.draft_revision + 1,
            published_version=number,
        )
    else:
        await _claim(
            session,
            flow,
            unchanged & (Flow.draft_revision == revision),
            draft=None,
            published_version=number,
        )
    if document != flow.definition:
        flow.definition = document
        flow.revision += 1
        await index_flow(session, flow)
    version = FlowVersion(
        flow_id=flow.id, number=number, definition=document, published_by=published_by, note=note
    )
    session.add(version)
    await session.flush()
    return version


def _still_at_version(number: int | None) -> Any:
    return Flow.published_version.is_(None) if number is None else Flow.published_version == number


async def _claim(session: AsyncSession, flow: Flow, condition: Any, **values: Any) -> None:
    """Write `values` to the flow's row only while `condition` holds there (the row as stored,
    not as this session last read it); Conflict when it no longer does."""
    await session.flush()
    written = cast(
        CursorResult[Any],
        await session.execute(
            update(Flow)
            .where(Flow.id == flow.id, condition)
            .values(**values)
            .execution_options(synchronize_session="fetch")
        ),
    )
    if written.rowcount != 1:
        raise Conflict(CHANGED_MEANWHILE)
    await session.refresh(flow, ["draft", "draft_revision", "published_version"])


# History


async def list_versions(session: AsyncSession, flow: Flow) -> Sequence[FlowVersion]:
    """Every published version of the flow, newest first."""
    found = await session.scalars(
        select(FlowVersion)
        .where(FlowVersion.flow_id == flow.id)
        .order_by(FlowVersion.number.desc())
    )
    return found.all()


async def get_version(session: AsyncSession, flow: Flow, number: int) -> FlowVersion:
    found = await session.scalar(
        select(FlowVersion).where(FlowVersion.flow_id == flow.id, FlowVersion.number == number)
    )
    if found is None:
        raise NotFound(f"Version {number} of this flow not found")
    return found


# Differences


@dataclass(frozen=True)
class NodeChange:
    node_id: str
    change: str  # "added", "removed" or "changed"
    details: list[str]


@dataclass(frozen=True)
class Diff:
    """What changed from one document to another: per node, then the start and triggers."""

    changes: list[NodeChange] = field(default_factory=list)
    start: list[str] = field(default_factory=list)
    triggers: list[str] = field(default_factory=list)


def diff(before: dict[str, Any], after: dict[str, Any]) -> Diff:
    old, new = _nodes_by_id(before), _nodes_by_id(after)
    changes: list[NodeChange] = []
    for node_id, node in new.items():
        if node_id not in old:
            changes.append(NodeChange(node_id, "added", [f"New {_describe(node)}."]))
        elif details := _node_details(old[node_id], node):
            changes.append(NodeChange(node_id, "changed", details))
    changes.extend(
        NodeChange(node_id, "removed", [f"Removed {_describe(node)}."])
        for node_id, node in old.items()
        if node_id not in new
    )
    start_before, start_after = before.get("start"), after.get("start")
    start = [] if start_before == start_after else [_change("start", start_before, start_after)]
    triggers = _value_details(before.get("triggers"), after.get("triggers"), "triggers")
    return Diff(changes, start, triggers)


def _nodes_by_id(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The document's nodes by id; one without a usable id (a draft may hold such) by its
    position, `#1` being the first."""
    nodes = document.get("nodes")
    found: dict[str, dict[str, Any]] = {}
    for index, node in enumerate(nodes if isinstance(nodes, list) else []):
        if isinstance(node, dict):
            node_id = node.get("id")
            key = node_id if isinstance(node_id, str) and node_id else f"#{index + 1}"
            found[key] = node
    return found


def _describe(node: dict[str, Any]) -> str:
    kind = node.get("type") if isinstance(node.get("type"), str) else "untyped"
    name = node.get("name")
    return f'{kind} node "{name}"' if isinstance(name, str) and name else f"{kind} node"


def _node_details(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    details = _value_details(
        {k: v for k, v in before.items() if k != "position"},
        {k: v for k, v in after.items() if k != "position"},
    )
    if before.get("position") != after.get("position"):
        details.append("Moved on the canvas.")
    return details


def _value_details(before: Any, after: Any, prefix: str = "") -> list[str]:
    """A sentence per leaf value (by dotted path) that differs; a null is as good as absent."""
    old, new = dict(_leaves(before, prefix)), dict(_leaves(after, prefix))
    details = [
        _change(path, old.get(path), value)
        for path, value in new.items()
        if path not in old or old[path] != value
    ]
    details.extend(_change(path, value, None) for path, value in old.items() if path not in new)
    return details


def _leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict) and value:
        for key, item in value.items():
            yield from _leaves(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list) and value:
        for index, item in enumerate(value):
            yield from _leaves(item, f"{path}.{index}" if path else str(index))
    elif value is not None:
        yield path, value


def _change(path: str, before: Any, after: Any) -> str:
    if before is None:
        return f"{path}: set to {_shown(after)}."
    if after is None:
        return f"{path}: {_shown(before)} removed."
    return f"{path}: {_shown(before)} → {_shown(after)}."


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"
