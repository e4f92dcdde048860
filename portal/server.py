"""`portal-console serve`: the portal under uvicorn, with token-free logs."""
from __future__ import annotations

import logging.config

import uvicorn

from store.config import load_config
from store.settings import get_settings

from .app import create_app
from .logs import log_config


def serve(host: str, port: int) -> int:
    """Serve the portal on host:port (the database is already open and migrated)."""
    logging.config.dictConfig(log_config())
    config = load_config()
    secret = config.secret_key.get_secret_value() if config.secret_key else None
    https = get_settings().portal_url.startswith("https://")
    app = create_app(secret, https=https)
    server = uvicorn.Server(uvicorn.Config(
        app, host=host, port=port, log_config=None, server_header=False,
        timeout_graceful_shutdown=10,
    ))
    server.run()
    return 0
