"""`portal-console portal set-username|delete-username|send`: the PORTAL panel's actions."""
from __future__ import annotations

import argparse

from store.config import load_config

from .output import shown


def cmd_portal_set_username(args: argparse.Namespace) -> int:
    from store.panel import set_username

    view = set_username(args.reference, args.username, expected_version=args.expect_version,
                        actor=load_config().agent)
    print(f"{shown(view.reference)}: username {shown(view.username)}, {shown(view.state_text)}")
    return 0


def cmd_portal_delete_username(args: argparse.Namespace) -> int:
    from store.panel import delete_username

    view = delete_username(args.reference, expected_version=args.expect_version, actor=load_config().agent)
    print(f"{shown(view.reference)}: username deleted, {shown(view.state_text)}; "
          f"action is now {shown(view.email_action_label)}")
    return 0


def cmd_portal_send(args: argparse.Namespace) -> int:
    from store.panel import send_portal_email

    queued = send_portal_email(args.reference, expected_version=args.expect_version, actor=load_config().agent)
    print(f"{queued.kind.type_name} email {queued.outbox_id} queued to {shown(', '.join(queued.to))}; "
          f"the link works once, until {queued.link_expires_at:%Y-%m-%d %H:%M} UTC")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    portal = sub.add_parser("portal", help="the PORTAL actions of a customer").add_subparsers(
        metavar="ACTION", required=True)
    for name, handler, helptext in (
        ("set-username", cmd_portal_set_username, "set or change the portal username (Update)"),
        ("delete-username", cmd_portal_delete_username, "delete the username and password (Delete)"),
        ("send", cmd_portal_send, "queue the one email the portal state allows"),
    ):
        action = portal.add_parser(name, help=helptext)
        action.add_argument("reference", metavar="REF")
        if name == "set-username":
            action.add_argument("username", metavar="USERNAME")
        action.add_argument("--expect-version", type=int, metavar="V",
                            help="refuse if the customer changed since version V")
        action.set_defaults(handler=handler)
