"""`portal-console serve`: the portal under uvicorn, with token-free logs."""
from __future__ import annotations

import logging.config

import uvicorn

from store.config import load_config
from store.settings import get_settings

from .app import create_app
from .logs import log_config


def serve(host: str, port: int, *, metrics_port: int | None = None) -> int:
    """Serve the portal on host:port (the database is already open and migrated); with
    ``metrics_port``, its Prometheus metrics on PORTAL_METRICS_HOST:metrics_port too."""
    logging.config.dictConfig(log_config())
    config = load_config()
    secret = config.secret_key.get_secret_value() if config.secret_key else None
    https = get_settings().portal_url.startswith("https://")
    app = create_app(secret, https=https, metrics_route=config.metrics_enabled)
    if metrics_port is not None:
        from prometheus_client import start_http_server

        start_http_server(metrics_port, addr=config.metrics_host, registry=app.state.metrics.registry)
        logging.getLogger("portal").info("metrics at http://%s:%d/metrics", config.metrics_host, metrics_port)
    server = uvicorn.Server(uvicorn.Config(
        app, host=host, port=port, log_config=None, server_header=False,
        timeout_graceful_shutdown=10,
    ))
    server.run()
    return 0
