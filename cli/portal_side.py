"""`portal-console portal unlock|sign-out|history|preview|suspend|resume REF`: what the customer
sees, for on-call staff answering "I can't log in" from a terminal (the PORTAL panel's h, v, l
and o), and Suspend / Resume of the portal access (its s and R)."""
from __future__ import annotations

import argparse

from store.config import load_config

from .output import print_json, shown


def cmd_portal_unlock(args: argparse.Namespace) -> int:
    from store.customer_side import unlock_customer

    cleared = unlock_customer(args.reference, actor=load_config().agent)
    print(f"{shown(args.reference)}: unlocked, {cleared} counted wrong "
          f"password{'s' if cleared != 1 else ''} cleared; the customer can sign in now")
    return 0


def cmd_portal_sign_out(args: argparse.Namespace) -> int:
    from store.customer_side import sign_out_everywhere

    ended = sign_out_everywhere(args.reference, actor=load_config().agent)
    print(f"{shown(args.reference)}: signed out everywhere, {ended} portal "
          f"session{'s' if ended != 1 else ''} ended")
    return 0


def cmd_portal_suspend(args: argparse.Namespace) -> int:
    from store.panel import suspend_portal

    view = suspend_portal(args.reference, args.reason or "", actor=load_config().agent)
    print(f"{shown(view.reference)}: {shown(view.state_text)}; the portal refuses sign-in and every link, "
          "its sessions ended, and no email is sent until `portal resume`")
    return 0


def cmd_portal_resume(args: argparse.Namespace) -> int:
    from store.panel import resume_portal

    view = resume_portal(args.reference, actor=load_config().agent)
    print(f"{shown(view.reference)}: portal access resumed, {shown(view.state_text)}")
    return 0


def cmd_portal_history(args: argparse.Namespace) -> int:
    from store.customer_side import sign_in_history

    records = sign_in_history(args.reference, limit=args.limit)
    if args.json:
        print_json(list(records))  # [] when nothing happened yet
        return 0
    for r in records:
        detail = f"  {shown(r.detail)}" if r.detail else ""
        print(f"{r.at:%Y-%m-%d %H:%M:%S}  {shown(r.address or '-'):15}  {shown(r.event)}{detail}")
    return 0


def cmd_portal_preview(args: argparse.Namespace) -> int:
    from store.customer_side import preview_email

    preview = preview_email(args.reference)
    print(f"From:    {shown(preview.sender)}")
    print(f"To:      {shown(', '.join(preview.to))}")
    print(f"Subject: {shown(preview.subject)}")
    print()
    for line in preview.text.splitlines():
        print(shown(line))
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Adds its actions to `portal` (made by cli/portal_actions.py, listed before this module)."""
    portal = next(action for action in sub.choices["portal"]._actions
                  if isinstance(action, argparse._SubParsersAction))
    for name, handler, helptext in (
        ("unlock", cmd_portal_unlock, "let a customer the portal's limits lock out sign in again (Unlock)"),
        ("sign-out", cmd_portal_sign_out, "end every portal session of the customer (sign out everywhere)"),
        ("history", cmd_portal_history, "the customer's last sign-in events, newest first"),
        ("preview", cmd_portal_preview, "the email `portal send` would queue, its link a placeholder"),
        ("suspend", cmd_portal_suspend, "stop the customer's portal access, keeping username and password"),
        ("resume", cmd_portal_resume, "give a suspended customer their portal access back as it was"),
    ):
        action = portal.add_parser(name, help=helptext)
        action.add_argument("reference", metavar="REF")
        if name == "suspend":
            action.add_argument("--reason", help="why, for the activity log and the PORTAL panel "
                                                 "(e.g. non-payment)")
        if name == "history":
            action.add_argument("--limit", type=int, default=50)
            action.add_argument("--json", action="store_true")
        action.set_defaults(handler=handler)
