"""Logging for every process: plain lines for a terminal, or one JSON object a line for a log
collector (`KONVERSATION_LOG_FORMAT=json`), each with the id of the request it belongs to."""

from __future__ import annotations

import datetime as dt
import json
import logging
import logging.config
from contextvars import ContextVar
from typing import Any

# Set for the duration of each HTTP request (see `wire.request_ids`).
REQUEST_ID: ContextVar[str | None] = ContextVar("konversation_request_id", default=None)
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonLines(logging.Formatter):
    """One JSON object a record: time, level, logger, message, request id, and any traceback."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = REQUEST_ID.get()
        if request_id is not None:
            line["request_id"] = request_id
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def logging_config(level: str, log_format: str) -> dict[str, Any]:
    """A `logging.config.dictConfig` for our loggers and uvicorn's alike."""
    formatter: dict[str, Any] = (
        {"()": JsonLines} if log_format == "json" else {"format": TEXT_FORMAT}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["default"], "level": level.upper()},
        "loggers": {
            name: {"handlers": [], "propagate": True}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        },
    }


def configure_logging(level: str, log_format: str) -> None:
    logging.config.dictConfig(logging_config(level, log_format))
