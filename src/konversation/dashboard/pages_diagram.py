"""A read-only picture of one flow: its nodes as boxes and its ports as labelled arrows.

The boxes stand where the flow builder put them (each node's `position`); a document whose
nodes have no positions, or whose positions would pile boxes on top of each other, is laid out
in rows instead, each row one step further from the start. The result is plain geometry that a
template draws as SVG, so the page needs no script.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from pydantic import ValidationError

from konversation.flows.format import NODE_TYPES, Path

BOX_WIDTH = 200
BOX_HEIGHT = 64
MARGIN = 40
# The room a box needs around it for the arrows between rows to stay readable.
CLEARANCE = 16
ROW_STEP = BOX_HEIGHT + 96
COLUMN_STEP = BOX_WIDTH + 40
# How far an arrow leaves its box straight before bending towards its target.
BEND = 70
MAX_TITLE = 26
RIGHT_ROOM = 200
# Port labels: at most this many characters shown, of about this width, a line this high.
LABEL_CHARS = 24
CHAR_WIDTH = 6.5
LINE_HEIGHT = 16
MAX_NUDGES = 4


@dataclass(frozen=True)
class Box:
    node_id: str
    title: str
    full_title: str
    type: str
    x: float
    y: float
    is_start: bool
    width: int = BOX_WIDTH
    height: int = BOX_HEIGHT


@dataclass(frozen=True)
class Arrow:
    source: str
    target: str
    label: str
    path: str
    label_x: float
    label_y: float


@dataclass(frozen=True)
class PortRow:
    """One port in the table under the picture: where it leads, or that the flow ends there."""

    node_id: str
    label: str
    target: str | None


@dataclass(frozen=True)
class Diagram:
    width: float
    height: float
    boxes: list[Box]
    arrows: list[Arrow]
    ports: list[PortRow]


@dataclass(frozen=True)
class _Node:
    node_id: str
    type: str
    name: str | None
    position: tuple[float, float] | None
    ports: list[tuple[str, str | None]]


def diagram(definition: Mapping[str, Any]) -> Diagram:
    """The picture of a stored flow document."""
    nodes = _read_nodes(definition.get("nodes"))
    start = definition.get("start")
    places = _given_places(nodes) or _rows(nodes, start if isinstance(start, str) else None)
    boxes = {
        node.node_id: _box(node, places[node.node_id], is_start=node.node_id == start)
        for node in nodes
    }
    arrows: list[Arrow] = []
    for node in nodes:
        linked = [(label, target) for label, target in node.ports if target in boxes]
        for index, (label, target) in enumerate(linked):
            assert target is not None
            arrows.append(_arrow(boxes[node.node_id], boxes[target], label, index, len(linked)))
    arrows = _apart(arrows)
    rows = [PortRow(node.node_id, label, target) for node in nodes for label, target in node.ports]
    # Room on the right for arrows that go round to a box further up, and their labels.
    width = max((box.x + box.width for box in boxes.values()), default=0) + RIGHT_ROOM
    height = max((box.y + box.height for box in boxes.values()), default=0) + MARGIN
    return Diagram(width, height, list(boxes.values()), arrows, rows)


def _apart(arrows: Sequence[Arrow]) -> list[Arrow]:
    """The arrows with their labels moved down, a line at a time, off labels placed before."""
    placed: list[tuple[float, float, float]] = []  # centre x, centre y, half width
    moved: list[Arrow] = []
    for arrow in arrows:
        half = (min(len(arrow.label), LABEL_CHARS) * CHAR_WIDTH + 8) / 2
        y = arrow.label_y
        for _ in range(MAX_NUDGES):
            if not any(
                abs(arrow.label_x - x) < half + other and abs(y - other_y) < LINE_HEIGHT
                for x, other_y, other in placed
            ):
                break
            y += LINE_HEIGHT
        placed.append((arrow.label_x, y, half))
        moved.append(replace(arrow, label_y=y))
    return moved


def _read_nodes(raw_nodes: Any) -> list[_Node]:
    if not isinstance(raw_nodes, list):
        return []
    nodes: list[_Node] = []
    seen: set[str] = set()
    for raw in raw_nodes:
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
            continue
        if raw["id"] in seen:
            continue
        seen.add(raw["id"])
        nodes.append(
            _Node(
                node_id=raw["id"],
                type=str(raw.get("type", "")),
                name=raw["name"] if isinstance(raw.get("name"), str) and raw["name"] else None,
                position=_position(raw.get("position")),
                ports=_ports(raw),
            )
        )
    return nodes


def _position(raw: Any) -> tuple[float, float] | None:
    if not isinstance(raw, dict):
        return None
    x, y = _number(raw.get("x")), _number(raw.get("y"))
    return None if x is None or y is None else (x, y)


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _ports(raw: dict[str, Any]) -> list[tuple[str, str | None]]:
    """(label, target) of every port of the node, in document order."""
    model = NODE_TYPES.get(raw.get("type", ""))
    if model is None:
        return []
    try:
        node = model.model_validate(raw)
    except ValidationError:
        return []  # a stored flow is checked on save; a stray one is drawn without arrows
    return [(port_label(raw, port.path), port.target) for port in node.ports()]


def port_label(raw: Mapping[str, Any], path: Path) -> str:
    """What a port is called: the title of its button or quick reply, the id of its branch, the
    name of a function flow's output, or the field it is (`next`, `else`, `invalid`...)."""
    for depth in range(len(path) - 1, 0, -1):
        if not isinstance(path[depth - 1], int):
            continue  # only items of lists (replies, buttons, branches) have their own names
        item = _at(raw, path[:depth])
        if isinstance(item, Mapping):
            for key in ("title", "id"):
                if isinstance(item.get(key), str) and item[key]:
                    return str(item[key])
    return str(path[-1])


def _at(raw: Any, path: Sequence[str | int]) -> Any:
    for part in path:
        if isinstance(part, int) and isinstance(raw, list) and part < len(raw):
            raw = raw[part]
        elif isinstance(part, str) and isinstance(raw, Mapping):
            raw = raw.get(part)
        else:
            return None
    return raw


def _given_places(nodes: Sequence[_Node]) -> dict[str, tuple[float, float]] | None:
    """Where the builder put the boxes, moved into view; None when any box has no place or two
    would overlap."""
    given = {node.node_id: node.position for node in nodes}
    if any(place is None for place in given.values()):
        return None
    places = {node_id: place for node_id, place in given.items() if place is not None}
    if _overlapping(places.values()):
        return None
    left = min((x for x, _ in places.values()), default=0.0)
    top = min((y for _, y in places.values()), default=0.0)
    return {node_id: (x - left + MARGIN, y - top + MARGIN) for node_id, (x, y) in places.items()}


def _overlapping(places: Iterable[tuple[float, float]]) -> bool:
    by_top = sorted(places, key=lambda place: place[1])
    for index, (x, y) in enumerate(by_top):
        for other_x, other_y in by_top[index + 1 :]:
            if other_y - y >= BOX_HEIGHT + CLEARANCE:
                break
            if abs(other_x - x) < BOX_WIDTH + CLEARANCE:
                return True
    return False


def _rows(nodes: Sequence[_Node], start: str | None) -> dict[str, tuple[float, float]]:
    """Rows by steps from the start; nodes nothing leads to start rows of their own."""
    links = {node.node_id: [t for _, t in node.ports if t is not None] for node in nodes}
    depth: dict[str, int] = {}
    roots = [start] if start in links else []
    roots += [node.node_id for node in nodes]
    for root in roots:
        if root in depth:
            continue
        depth[root] = 0
        waiting = deque([root])
        while waiting:
            current = waiting.popleft()
            for target in links.get(current, []):
                if target in links and target not in depth:
                    depth[target] = depth[current] + 1
                    waiting.append(target)
    columns: dict[int, int] = {}
    places: dict[str, tuple[float, float]] = {}
    for node in nodes:
        row = depth[node.node_id]
        column = columns.get(row, 0)
        columns[row] = column + 1
        places[node.node_id] = (MARGIN + column * COLUMN_STEP, MARGIN + row * ROW_STEP)
    return places


def _box(node: _Node, place: tuple[float, float], *, is_start: bool) -> Box:
    full = node.name or node.node_id
    title = full if len(full) <= MAX_TITLE else full[: MAX_TITLE - 1] + "…"
    return Box(node.node_id, title, full, node.type, place[0], place[1], is_start)


def _arrow(source: Box, target: Box, label: str, index: int, count: int) -> Arrow:
    if source is target:
        return _loop(source, label)
    if target.y + target.height <= source.y:
        return _back(source, target, label)
    # The ports of a box leave from its bottom edge, spread out in document order.
    start = (source.x + source.width * (index + 1) / (count + 1), source.y + source.height)
    end = (target.x + target.width / 2, target.y)
    return _curve(source, target, label, start, (0, BEND), (0, -BEND), end)


def _back(source: Box, target: Box, label: str) -> Arrow:
    """An arrow to a box further up goes round by the right, clear of the boxes between."""
    start = (source.x + source.width, source.y + source.height / 2)
    end = (target.x + target.width, target.y + target.height / 2)
    reach = max(start[0], end[0]) - min(start[0], end[0]) + BEND
    return _curve(source, target, label, start, (reach, 0), (reach, 0), end)


def _curve(
    source: Box,
    target: Box,
    label: str,
    start: tuple[float, float],
    leave: tuple[float, float],
    arrive: tuple[float, float],
    end: tuple[float, float],
) -> Arrow:
    """A curve from `start` to `end`, leaving and arriving along the given offsets."""
    bend_1 = (start[0] + leave[0], start[1] + leave[1])
    bend_2 = (end[0] + arrive[0], end[1] + arrive[1])
    points = (start, bend_1, bend_2, end)
    path = "M {:g} {:g} C {:g} {:g} {:g} {:g} {:g} {:g}".format(*(c for p in points for c in p))
    # The middle of the curve, where its label sits.
    middle_x = (start[0] + 3 * bend_1[0] + 3 * bend_2[0] + end[0]) / 8
    middle_y = (start[1] + 3 * bend_1[1] + 3 * bend_2[1] + end[1]) / 8
    return Arrow(source.node_id, target.node_id, label, path, middle_x, middle_y)


def _loop(box: Box, label: str) -> Arrow:
    right, middle = box.x + box.width, box.y + box.height / 2
    path = (
        f"M {right:g} {middle - 12:g} C {right + 60:g} {middle - 50:g} "
        f"{right + 60:g} {middle + 50:g} {right:g} {middle + 12:g}"
    )
    return Arrow(box.node_id, box.node_id, label, path, right + 50, middle)
