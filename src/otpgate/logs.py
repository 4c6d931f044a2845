"""structlog for every entry point, with the processor that keeps numbers and secrets out."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from otpgate.domain.phone import mask_number

PHONE_FIELDS = frozenset({"to", "phone", "number", "phone_number", "to_phone_number"})
SECRET_FIELDS = frozenset(
    {"code", "body", "secret", "api_key", "password", "token", "authorization", "validation_code"}
)


def redact(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Mask phone numbers to their last 4 digits and drop anything that could be a secret."""
    for name in list(event):
        if name in SECRET_FIELDS:
            event[name] = "[redacted]"
        elif name in PHONE_FIELDS and isinstance(event[name], str):
            event[name] = mask_number(event[name])
    return event


def configure_logging(level: str = "info", log_format: str = "console") -> None:
    numeric_level = logging.getLevelName(level.upper())
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(
        level=numeric_level,
        stream=sys.stderr,
        format="%(asctime)s [%(levelname)s] %(name)s: %(message)s",
        force=True,
    )
    # httpx logs every request's full URL at INFO; a gateway's GET template puts the text, and
    # so the code, in that URL
    logging.getLogger("httpx").setLevel(max(numeric_level, logging.WARNING))
