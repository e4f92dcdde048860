"""`--metrics-port N` of `serve` and `mailer`: Prometheus metrics on a port of their own,
so the customer-facing host never shows them (docs/operations.md)."""
from __future__ import annotations

import argparse
import logging


def port_number(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"a port is a number from 1 to 65535, not {text!r}")
    return int(text)


def start_metrics_server(registry, host: str, port: int, what: str) -> None:
    """Serve ``registry`` at http://host:port/metrics on a thread of its own (prometheus_client's)."""
    from prometheus_client import start_http_server

    start_http_server(port, addr=host, registry=registry)
    logging.getLogger(what).info("metrics at http://%s:%d/metrics", host, port)
