"""The flow picture's geometry: boxes where the builder put them, labelled arrows per port."""

from __future__ import annotations

from typing import Any

from konversation.dashboard.pages_diagram import BOX_HEIGHT, MARGIN, diagram, port_label

ASK = {
    "version": 1,
    "start": "greet",
    "nodes": [
        {
            "id": "greet",
            "type": "send_message",
            "name": "Greeting",
            "position": {"x": -100, "y": 0},
            "messages": [
                {
                    "type": "text",
                    "text": "Hi",
                    "buttons": [
                        {
                            "id": "b",
                            "title": "Read more",
                            "action": {"type": "go_to", "node": "bye"},
                        }
                    ],
                }
            ],
            "quick_replies": [
                {"id": "yes", "title": "Yes, please", "next": "check"},
                {"id": "no", "title": "No, thanks", "next": None},
            ],
        },
        {
            "id": "check",
            "type": "condition",
            "position": {"x": -100, "y": 200},
            "branches": [
                {
                    "id": "vip",
                    "conditions": [
                        {"subject": {"type": "channel"}, "operator": "eq", "value": "web"}
                    ],
                    "next": "bye",
                }
            ],
            "else": "bye",
        },
        {
            "id": "bye",
            "type": "send_message",
            "position": {"x": 200, "y": 400},
            "messages": [{"type": "text", "text": "Bye"}],
        },
    ],
}


def test_boxes_keep_the_builders_places_moved_into_view() -> None:
    picture = diagram(ASK)
    places = {box.node_id: (box.x, box.y) for box in picture.boxes}
    assert places == {
        "greet": (MARGIN, MARGIN),
        "check": (MARGIN, MARGIN + 200),
        "bye": (MARGIN + 300, MARGIN + 400),
    }
    assert [box.title for box in picture.boxes] == ["Greeting", "check", "bye"]
    assert [box.is_start for box in picture.boxes] == [True, False, False]


def test_every_linked_port_is_an_arrow_labelled_by_its_name() -> None:
    picture = diagram(ASK)
    assert [(a.source, a.label, a.target) for a in picture.arrows] == [
        ("greet", "Read more", "bye"),
        ("greet", "Yes, please", "check"),
        ("check", "vip", "bye"),
        ("check", "else", "bye"),
    ]
    # The table lists the ports that end the flow too.
    assert ("greet", "No, thanks", None) in [(p.node_id, p.label, p.target) for p in picture.ports]
    arrow = picture.arrows[1]
    assert arrow.path.startswith("M ")
    assert arrow.path.endswith(f"{MARGIN + 100:g} {MARGIN + 200:g}")


def test_nodes_without_places_are_laid_out_in_rows_by_steps_from_the_start() -> None:
    document: dict[str, Any] = {
        "version": 1,
        "start": "a",
        "nodes": [
            {"id": "c", "type": "go_to", "node": "a"},
            {"id": "a", "type": "delay", "minutes": 5, "next": "b"},
            {"id": "b", "type": "go_to", "node": "c"},
        ],
    }
    rows = {box.node_id: box.y for box in diagram(document).boxes}
    assert rows["a"] < rows["b"] < rows["c"]


def test_overlapping_places_fall_back_to_rows() -> None:
    document = {
        "version": 1,
        "start": "a",
        "nodes": [
            {"id": "a", "type": "delay", "minutes": 1, "next": "b", "position": {"x": 0, "y": 0}},
            {"id": "b", "type": "delay", "minutes": 1, "position": {"x": 5, "y": 5}},
        ],
    }
    tops = sorted(box.y for box in diagram(document).boxes)
    assert tops[1] - tops[0] > BOX_HEIGHT


def test_port_labels_of_outputs_and_fields() -> None:
    raw = {"id": "s", "type": "start_flow", "outputs": {"paid": "x"}, "next": None}
    assert port_label(raw, ("outputs", "paid")) == "paid"
    assert port_label(raw, ("next",)) == "next"
    action = {"actions": [{"type": "http_request", "on_error": "x"}]}
    assert port_label(action, ("actions", 0, "on_error")) == "on_error"


def test_an_empty_flow_is_an_empty_picture() -> None:
    picture = diagram({"version": 1, "start": None, "nodes": []})
    assert picture.boxes == []
    assert picture.arrows == []
