"""The `portal-console` subcommands of the portal."""
from __future__ import annotations

import argparse


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register this part's subcommands on the main parser."""
