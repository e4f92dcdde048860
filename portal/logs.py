"""The portal's logging: uvicorn's, with link tokens redacted from every line.

A setup or reset link's token is a password-equivalent until used, so the
access log shows `/setup/[redacted]`, never the token.
"""
from __future__ import annotations

import copy
import logging
import re
from typing import Any

from uvicorn.config import LOGGING_CONFIG

_TOKEN_PATH = re.compile(r"(/(?:setup|reset)/)[^\s?\"']+")


def redact(text: str) -> str:
    """The text with every /setup/<token> and /reset/<token> path's token replaced."""
    return _TOKEN_PATH.sub(r"\1[redacted]", text)


class RedactTokens(logging.Filter):
    """Rewrites a record's message and arguments so no link token reaches a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()}
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's logging configuration, with RedactTokens on every handler and the portal's logger."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"redact": {"()": RedactTokens}}
    for handler in config["handlers"].values():
        handler["filters"] = ["redact"]
    config["loggers"]["portal"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config
