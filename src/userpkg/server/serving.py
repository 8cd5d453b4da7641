"""Running the service: one uvicorn process, or N sharing a port, each with its own Service."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from userpkg.core.service import Service
from userpkg.core.settings import Settings, SyncDelay
from userpkg.server.app import create_app
from userpkg.server.connections import ENV_LIMITS, ConnectionLimits, GuardedHttpProtocol
from userpkg.server.logs import setup_logging
from userpkg.worker.loop import attach

ENV_SETTINGS = "USERPKG_SERVE_SETTINGS"


def _settings_to_env(settings: Settings) -> str:
    raw: dict[str, Any] = asdict(settings)
    raw["data_dir"] = str(settings.data_dir)
    raw["blob_dir"] = None if settings.blob_dir is None else str(settings.blob_dir)
    raw["sync_delay"] = str(settings.sync_delay)
    return json.dumps(raw)


def _settings_from_env(text: str) -> Settings:
    raw = json.loads(text)
    raw["data_dir"] = Path(raw["data_dir"])
    raw["blob_dir"] = None if raw["blob_dir"] is None else Path(raw["blob_dir"])
    raw["sync_delay"] = SyncDelay.parse(raw["sync_delay"])
    return Settings(**raw)


def app_from_environment() -> ASGIApp:
    """uvicorn's factory for worker processes: the settings come through the environment."""
    setup_logging(os.environ.get("USERPKG_LOG_LEVEL", "INFO"))
    service = Service(_settings_from_env(os.environ[ENV_SETTINGS]))
    start(service)
    return create_app(service)


def start(service: Service) -> None:
    """Background work of an API process: flushing, sweeping, and tasks unless told not to."""
    service.start_background()
    if service.settings.processing:
        attach(service)


def run(
    settings: Settings,
    host: str,
    port: int,
    workers: int,
    log_level: str,
    limits: ConnectionLimits | None = None,
) -> None:
    """Serve with uvicorn's httptools parser under `limits` (see docs/deployment.md)."""
    limits = limits or ConnectionLimits()
    GuardedHttpProtocol.limits = limits
    os.environ[ENV_LIMITS] = limits.to_env()
    common: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_config": None,
        "access_log": False,
        "server_header": False,
        "http": "userpkg.server.connections:GuardedHttpProtocol",
        "timeout_graceful_shutdown": 10,
    }
    if workers > 1:
        os.environ[ENV_SETTINGS] = _settings_to_env(replace(settings))
        os.environ["USERPKG_LOG_LEVEL"] = log_level
        uvicorn.run(
            "userpkg.server.serving:app_from_environment", factory=True, workers=workers, **common
        )
        return
    service = Service(settings)
    start(service)
    try:
        uvicorn.run(create_app(service), **common)
    finally:
        service.close()
