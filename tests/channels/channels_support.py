"""What the channel tests share besides fixtures (those are in this directory's conftest.py)."""

from __future__ import annotations

FOLLOW_UP = "Great, off we go."

# A greeting with a button that leads on to FOLLOW_UP.
GREETING_FLOW = {
    "version": 1,
    "start": "greet",
    "nodes": [
        {
            "id": "greet",
            "type": "send_message",
            "messages": [
                {
                    "type": "text",
                    "text": "Hi {{first_name|there}}! Shall we?",
                    "buttons": [
                        {"id": "yes", "title": "Yes", "action": {"type": "go_to", "node": "go"}}
                    ],
                }
            ],
        },
        {"id": "go", "type": "send_message", "messages": [{"type": "text", "text": FOLLOW_UP}]},
    ],
}
