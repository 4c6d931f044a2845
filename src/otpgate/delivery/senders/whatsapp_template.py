"""WhatsApp's authentication template as the Cloud API takes it (Vonage's `custom` message
passes the same object through): the code fills the body's {{1}} and the copy-code button."""

from __future__ import annotations

from typing import Any


def authentication_template(name: str, language: str, code: str) -> dict[str, Any]:
    """`language` is BCP 47 (`pt-BR`); WhatsApp names its template languages `pt_BR`."""
    return {
        "name": name,
        "language": {"policy": "deterministic", "code": language.replace("-", "_")},
        "components": [
            {"type": "body", "parameters": [{"type": "text", "text": code}]},
            # a copy-code button is a URL button to WhatsApp: its one parameter is the code
            {
                "type": "button",
                "sub_type": "url",
                "index": "0",
                "parameters": [{"type": "text", "text": code}],
            },
        ],
    }
