"""What the WhatsApp tests share besides fixtures (those are in this directory's conftest.py)."""

from __future__ import annotations

SHIPPED = {
    "name": "order_shipped",
    "language": "en_US",
    "category": "UTILITY",
    "components": [
        {"type": "BODY", "text": "Hi {{1}}, order {{2}} has shipped."},
        {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Thanks"}]},
    ],
}
