"""The `portal-console` subcommands of the portal."""
from __future__ import annotations

import argparse


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"a port is a number from 1 to 65535, not {text!r}")
    return int(text)


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the customer portal until interrupted."""
    from portal.server import serve

    return serve(args.host, args.port, metrics_port=args.metrics_port)


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register this part's subcommands on the main parser."""
    serve = sub.add_parser("serve", help="run the customer portal: the pages the emails' links open")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=8080, help="port to listen on (default 8080)")
    serve.add_argument("--metrics-port", type=_port, metavar="N",
                       help="serve Prometheus metrics at http://PORTAL_METRICS_HOST:N/metrics, a port of their "
                            "own that the customers' host never shows (default host 127.0.0.1)")
    serve.set_defaults(handler=cmd_serve)
