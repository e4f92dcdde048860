"""`portal-console`: the console, and commands for on-call staff and scripts.

Every command goes through the same service layer as the console. Exit codes:
0 success, 1 a domain error (one line on stderr), 2 a usage error.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from datetime import datetime
from enum import Enum
from typing import Any, Sequence

from peewee import OperationalError, InterfaceError

from store.config import ConfigError, load_config
from store.errors import PortalError, StaleEdit


def shown(value: Any, *, none: str = "(none)") -> str:
    """A value as the CLI prints it: plain text, safe on a terminal.

    Every character that doesn't print (\\r, \\n, \\t, ESC and the other controls, bidi
    overrides and other format characters) appears as its escape, so a stored value
    can't forge a row or a column, move the cursor or rewrite the line. ``None`` reads
    as ``none``. Every stored value the CLI prints as text goes through here.
    """
    if value is None:
        return none
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in str(value))


def _old_new(old: str | None, new: str | None) -> str:
    """A change as `old -> new`, each side shown safely; (none) and (empty) for no value."""
    return " -> ".join("(empty)" if v == "" else shown(v) for v in (old, new))


def _plain(value: Any) -> Any:
    """Make service-layer values JSON-ready."""
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _print_json(value: Any) -> None:
    text = json.dumps(_plain(value), indent=2, ensure_ascii=False)
    # json escapes the C0 controls itself, but leaves DEL, the C1 controls and format
    # characters raw: those get their \\u escape too, so the JSON stays the same data.
    print("".join(ch if ch.isprintable() or ch == "\n" else json.dumps(ch)[1:-1] for ch in text))


def _customer_json(detail) -> dict[str, Any]:
    portal = detail.portal
    return {
        "reference": detail.reference, "name": detail.name, "company": detail.company,
        "primary_email": detail.primary_email, "addresses": list(detail.addresses),
        "address_problem": detail.address_problem, "version": detail.version,
        "created_at": detail.created_at.isoformat(),
        "portal": {
            "username": portal.username, "state": portal.state.value,
            "state_text": portal.state_text, "email_action": portal.email_action.value,
            "email_action_label": portal.email_action_label,
            "email_blocked_reason": portal.email_blocked_reason,
            "email_type_enabled": portal.email_type_enabled,
            "password_set_at": portal.password_set_at.isoformat() if portal.password_set_at else None,
        },
    }


# --- commands ---------------------------------------------------------------

def cmd_console(args: argparse.Namespace) -> int:
    from tui.app import run_console

    run_console(load_config())
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from store import demo

    count = demo.seed(args.customers)
    print(f"Demo database ready: {count} customers. Active demo customers sign in to the portal "
          f"with the password {demo.DEMO_PASSWORD!r}.", file=sys.stderr)
    if args.seed_only:
        return 0
    return cmd_console(args)


def cmd_customer_add(args: argparse.Namespace) -> int:
    from store.customers import add_customer

    new = add_customer(name=args.name, primary_email=args.email, company=args.company or "",
                       reference=args.reference, actor=load_config().agent)
    print(shown(new.reference))
    if new.credential_create_queued:
        print("Customer Credential Create email queued.", file=sys.stderr)
    elif new.not_queued_reason:
        print(f"No Credential Create email: {shown(new.not_queued_reason)}", file=sys.stderr)
    return 0


def cmd_customer_show(args: argparse.Namespace) -> int:
    from store.customers import get_customer

    detail = get_customer(args.reference)
    if args.json:
        _print_json(_customer_json(detail))
        return 0
    portal = detail.portal
    print(f"{shown(detail.reference)}  {shown(detail.name)}"
          + (f"  ({shown(detail.company)})" if detail.company else ""))
    print(f"Primary Email Address: {shown(detail.primary_email or '(empty)')}")
    if detail.address_problem:
        print(f"  ! {shown(detail.address_problem)}")
    print(f"Portal username: {shown(portal.username or None)}")
    print(f"Portal state:    {shown(portal.state_text)}")
    print(f"Email action:    {shown(portal.email_action_label)}"
          + (f"  (unavailable: {shown(portal.email_blocked_reason)})" if portal.email_blocked_reason else ""))
    if portal.email_type_note:
        print(f"  note: {shown(portal.email_type_note)}")
    return 0


_FIELD_LABELS = {"name": "Name", "company": "Company", "primary_email": "Primary Email Address"}


def cmd_customer_update(args: argparse.Namespace) -> int:
    from store.customers import get_customer, update_customer

    before = get_customer(args.reference)
    # Without --expect-version, the version just read: the old values printed below are
    # then the ones this edit replaced, never a change someone made in between.
    expected = args.expect_version if args.expect_version is not None else before.version
    update = update_customer(args.reference, expected_version=expected, actor=load_config().agent,
                             name=args.name, company=args.company, primary_email=args.email)
    after, ref = update.detail, shown(update.detail.reference)
    if not update.changed:
        print(f"{ref}: nothing changed (version {after.version}).")
        return 0
    for field in update.changed:
        old, new = getattr(before, field), getattr(after, field)
        print(f"{ref}: {_FIELD_LABELS.get(field, field)}: {_old_new(old, new)}")
    print(f"{ref}: now version {after.version}.")
    if "primary_email" in update.changed:
        if update.links_revoked:
            print(f"{ref}: {update.links_revoked_text} sent to the old address revoked; they no longer "
                  f"work. Send a new email from PORTAL: portal-console portal send {ref}")
        else:
            print(f"{ref}: no open links to revoke.")
    return 0


def cmd_customer_find(args: argparse.Namespace) -> int:
    from store.customers import find_customers
    from store.values import PortalState

    state = PortalState(args.state) if args.state else None
    page = find_customers(args.text, state=state, limit=args.limit)
    if args.json:
        _print_json(list(page.customers))  # [] when nothing matches
        return 0
    for c in page.customers:
        print("\t".join(shown(v, none="") for v in (c.reference, c.name, c.company, c.primary_email,
                                                      c.username, c.state.label)))
    if not page.customers:
        # Not an error: exit 0 with stdout empty, as with rows a script reads; the note is for a person.
        in_state = f" in state {args.state}" if args.state else ""
        print(f"No customer matches '{shown(args.text)}'{in_state}.", file=sys.stderr)
    if page.has_more:
        print(f"(more than {args.limit}; narrow the search or raise --limit)", file=sys.stderr)
    return 0


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


def cmd_settings_show(args: argparse.Namespace) -> int:
    from store.settings import KEYS, get_settings, setting_text

    settings = get_settings()
    values = {key: setting_text(settings, key) for key in KEYS}
    if args.json:
        _print_json({**values, **{k: v for k, v in _plain(settings).items() if k not in values}})
        return 0
    for key, value in values.items():
        print(f"{key:24} {shown(value)}")
    return 0


def cmd_settings_set(args: argparse.Namespace) -> int:
    from store.settings import setting_text, update_setting

    settings = update_setting(args.key, args.value, actor=load_config().agent)
    print(f"{shown(args.key)} = {shown(setting_text(settings, args.key))}")
    return 0


def cmd_outbox_list(args: argparse.Namespace) -> int:
    from store.outbox import list_outbox
    from store.values import OutboxStatus

    emails = list_outbox(status=OutboxStatus(args.status) if args.status else None, limit=args.limit)
    if args.json:
        _print_json(list(emails))
        return 0
    for e in emails:
        fields = [e.id, e.status.value, f"{e.created_at:%Y-%m-%d %H:%M}", e.customer_reference,
                  e.kind.type_name, ", ".join(e.to)] + ([e.last_error] if e.last_error else [])
        print("\t".join(shown(v) for v in fields))
    return 0


def cmd_outbox_retry(args: argparse.Namespace) -> int:
    from store.outbox import retry_email

    email = retry_email(args.id, actor=load_config().agent)
    print(f"Email {email.id} queued again to {shown(', '.join(email.to))}")
    return 0


def cmd_activity(args: argparse.Namespace) -> int:
    from store.activity import list_activity
    from store.records import customer_row

    # A clear "no such customer" rather than an empty list.
    customer_row(args.reference)
    events = list_activity(args.reference, limit=args.limit)
    if args.json:
        _print_json(events)
        return 0
    for e in events:
        change = f"  {_old_new(e.old_value, e.new_value)}" if (e.old_value or e.new_value) else ""
        detail = f": {shown(e.detail)}" if e.detail else ""
        print(f"{e.at:%Y-%m-%d %H:%M:%S}  {shown(e.actor):12}  {shown(e.action)}{detail}{change}")
    return 0


# --- parser -----------------------------------------------------------------

class _Parser(argparse.ArgumentParser):
    """The parser of `portal-console` and, through add_subparsers, of every subcommand.

    argparse leaves arguments a subcommand doesn't know to the top-level parser, whose
    error then shows the top-level usage; here the subcommand that got them refuses
    them, with its own usage. ``one_of``: options of which the command needs at least one.
    """

    one_of: tuple[str, ...] = ()

    def parse_known_args(self, args=None, namespace=None):
        namespace, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(shown(a) for a in extras)}")
        if self.one_of and all(getattr(namespace, o[2:].replace("-", "_"), None) is None for o in self.one_of):
            self.error(f"give at least one of {', '.join(self.one_of)}")
        return namespace, extras


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="portal-console", description=__doc__.splitlines()[0])
    parser.set_defaults(handler=cmd_console, needs_db=True)
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    demo = sub.add_parser("demo", help="create or refresh a demo database, then open the console")
    demo.add_argument("--customers", type=int, default=60, metavar="N")
    demo.add_argument("--seed-only", action="store_true", help="fill the database but don't open the console")
    demo.set_defaults(handler=cmd_demo)

    customer = sub.add_parser("customer", help="add, show, find and update customers").add_subparsers(
        metavar="ACTION", required=True)
    add = customer.add_parser("add", help="add a customer (prints the reference)")
    add.add_argument("--name", required=True)
    add.add_argument("--email", required=True, help='Primary Email Address, e.g. "a@x.com; b@y.com"')
    add.add_argument("--company")
    add.add_argument("--reference")
    add.set_defaults(handler=cmd_customer_add)
    show = customer.add_parser("show", help="a customer's details and portal state")
    show.add_argument("reference", metavar="REF")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=cmd_customer_show)
    find = customer.add_parser("find", help="search name, company, reference, addresses, username")
    find.add_argument("text", metavar="TEXT")
    find.add_argument("--state", choices=["not_set_up", "awaiting_customer", "active"])
    find.add_argument("--limit", type=int, default=50)
    find.add_argument("--json", action="store_true")
    find.set_defaults(handler=cmd_customer_find)
    update = customer.add_parser(
        "update", help="change name, company or Primary Email Address (prints what changed)",
        description="Change a customer's name, company or Primary Email Address. A new address "
                    "revokes the open setup and reset links sent to the old one.")
    update.add_argument("reference", metavar="REF")
    update.add_argument("--name", metavar="N")
    update.add_argument("--company", metavar="C", help='"" clears it')
    update.add_argument("--email", metavar="E", help='the new Primary Email Address, e.g. "a@x.com; b@y.com"')
    update.add_argument("--expect-version", type=int, metavar="V",
                        help="refuse if the customer changed since version V")
    update.one_of = ("--name", "--company", "--email")
    update.set_defaults(handler=cmd_customer_update)

    portal = sub.add_parser("portal", help="the PORTAL actions of a customer").add_subparsers(metavar="ACTION", required=True)
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

    settings = sub.add_parser("settings", help="account settings").add_subparsers(metavar="ACTION", required=True)
    s_show = settings.add_parser("show", help="every account setting and its value")
    s_show.add_argument("--json", action="store_true")
    s_show.set_defaults(handler=cmd_settings_show)
    s_set = settings.add_parser("set", help="change one setting: KEY VALUE, as `settings show` lists them")
    s_set.add_argument("key", metavar="KEY")
    s_set.add_argument("value", metavar="VALUE")
    s_set.set_defaults(handler=cmd_settings_set)

    outbox = sub.add_parser("outbox", help="queued, sent and failed emails").add_subparsers(metavar="ACTION", required=True)
    o_list = outbox.add_parser("list", help="the newest emails with their status (and why one failed)")
    o_list.add_argument("--status", choices=["queued", "sending", "sent", "failed"])
    o_list.add_argument("--limit", type=int, default=200)
    o_list.add_argument("--json", action="store_true")
    o_list.set_defaults(handler=cmd_outbox_list)
    o_retry = outbox.add_parser("retry", help="queue a failed email again")
    o_retry.add_argument("id", type=int, metavar="ID")
    o_retry.set_defaults(handler=cmd_outbox_retry)

    act = sub.add_parser("activity", help="a customer's activity log")
    act.add_argument("reference", metavar="REF")
    act.add_argument("--limit", type=int, default=200)
    act.add_argument("--json", action="store_true")
    act.set_defaults(handler=cmd_activity)

    # The mailer (`mailer`) and the customer portal (`serve`) register their own commands.
    from mailer.cli import add_commands as add_mailer_commands
    from portal.cli import add_commands as add_portal_commands

    add_mailer_commands(sub)
    add_portal_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `portal-console` command."""
    args = build_parser().parse_args(argv)
    try:
        config = load_config()
        if args.needs_db:
            from store import db

            db.init(config.database_url)
        return args.handler(args)
    except ConfigError as error:
        print(f"portal-console: configuration: {shown(error)}", file=sys.stderr)
        return 1
    except StaleEdit as error:
        again = f" Run `portal-console customer show {shown(args.reference)}` for the current version." \
            if getattr(args, "reference", None) else ""
        print(f"portal-console: {shown(error.message)}{again}", file=sys.stderr)
        return 1
    except PortalError as error:
        print(f"portal-console: {shown(error.message)}", file=sys.stderr)
        return 1
    except (OperationalError, InterfaceError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        print(f"portal-console: the database is unavailable: {shown(first)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
