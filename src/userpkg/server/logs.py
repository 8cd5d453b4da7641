"""Structured JSON logs, one object per line, with secrets never written in full."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}
LONG_SEGMENT = 24
_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str)


def shorten_path(path: str) -> str:
    """Long path segments are upload ids, which act as capabilities: keep their head (the
    time they were made) and tail (to tell uploads of the same second apart), not the rest."""
    return "/".join(
        seg if len(seg) <= LONG_SEGMENT else f"{seg[:12]}…{seg[-4:]}" for seg in path.split("/")
    )


class JsonFormatter(logging.Formatter):
    """One JSON object a line. Every request writes one, so the work per line is kept small:
    the timestamp's seconds are formatted once a second and the JSON encoder is built once."""

    def __init__(self) -> None:
        super().__init__()
        self._second = -1
        self._stamp = ""

    def format(self, record: logging.LogRecord) -> str:
        second = int(record.created)
        if second != self._second:
            self._stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = second
        out: dict[str, Any] = {
            "ts": f"{self._stamp}.{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        out.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return _ENCODER.encode(out)


def quiet_libraries() -> None:
    """Libraries' own lines that would carry full URLs (upload ids) or noise: off or quieter.

    The edge writes one request line of its own, with long path segments shortened.
    """
    logging.getLogger("uvicorn.access").disabled = True
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)


def setup_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    quiet_libraries()
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
