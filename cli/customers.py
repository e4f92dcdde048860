"""`portal-console customer add|show|find|update|import` and `activity REF`: a customer's details and log."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from store.config import load_config
from store.values import PortalState

from .output import old_new, print_json, shown


def _customer_json(detail) -> dict[str, Any]:
    from store.customer_side import customer_side

    from .output import plain

    portal = detail.portal
    # What the customer sees: the newest link's life and the sign-ins, in values and in words.
    side = customer_side(detail.reference)
    now, link, signin = side.read_at, side.link, side.signin
    blocked = signin.blocked_until(now)
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
            "link": None if link is None else {
                **plain(link), "phase": link.phase(now).value, "text": link.text(now),
            },
            "sign_in": {
                **plain(signin), "locked": blocked is not None,
                "blocked_until": blocked.isoformat() if blocked else None,
                "text": signin.sign_in_text(now), "lock_text": signin.lock_text(now),
            },
        },
    }


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
        print_json(_customer_json(detail))
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
        print(f"{ref}: {_FIELD_LABELS.get(field, field)}: {old_new(old, new)}")
    print(f"{ref}: now version {after.version}.")
    if "primary_email" in update.changed:
        if update.links_revoked:
            print(f"{ref}: {update.links_revoked_text} sent to the old address revoked; they no longer "
                  f"work. Send a new email from PORTAL: portal-console portal send {ref}")
        else:
            print(f"{ref}: no open links to revoke.")
    return 0


def cmd_customer_find(args: argparse.Namespace) -> int:
    from store.search import find_customers
    from store.values import PortalState

    state = PortalState(args.state) if args.state else None
    page = find_customers(args.text, state=state, limit=args.limit)
    if args.json:
        print_json(list(page.customers))  # [] when nothing matches
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


def cmd_activity(args: argparse.Namespace) -> int:
    from store.activity import list_activity
    from store.records import customer_row

    # A clear "no such customer" rather than an empty list.
    customer_row(args.reference)
    events = list_activity(args.reference, limit=args.limit)
    if args.json:
        print_json(events)
        return 0
    for e in events:
        change = f"  {old_new(e.old_value, e.new_value)}" if (e.old_value or e.new_value) else ""
        detail = f": {shown(e.detail)}" if e.detail else ""
        print(f"{e.at:%Y-%m-%d %H:%M:%S}  {shown(e.actor):12}  {shown(e.action)}{detail}{change}")
    return 0


def cmd_customer_import(args: argparse.Namespace) -> int:
    """Exit 0: every row imported (or, with --dry-run, would be); 1: a row refused (nothing
    imported, or with --skip-refused the rest), or the file refused (header, encoding); 2: usage."""
    from store.importer import import_customers, read_customer_csv
    from store.settings import get_settings

    from .progress import stage_progress

    try:
        data = args.file.read_bytes()
    except OSError as error:
        print(f"portal-console customer import: can't read {shown(str(args.file))}: {shown(error.strerror)}",
              file=sys.stderr)
        return 2
    rows = read_customer_csv(data)
    with stage_progress() as progress:
        report = import_customers(rows, actor=load_config().agent, dry_run=args.dry_run,
                                  skip_refused=args.skip_refused, strict_email=args.strict_email,
                                  progress=None if args.json else progress)
    if args.json:
        print_json({"rows": report.rows, "imported": report.imported, "dry_run": report.dry_run,
                    "refused": [{"line": r.line, "reason": r.reason} for r in report.refused]})
    else:
        for refused in report.refused:
            print(f"line {refused.line}: {shown(refused.reason)}", file=sys.stderr)
        print(_import_summary(report, skip_refused=args.skip_refused))
        if report.imported and not report.dry_run and get_settings().credential_create_email:
            print("Credential Create is on: each imported customer with a valid address was queued that email "
                  "(after any email sent by hand).", file=sys.stderr)
    return 1 if report.refused else 0


def _import_summary(report, *, skip_refused: bool) -> str:
    rows = f"{report.rows:,} row{'s' if report.rows != 1 else ''}"
    refused = f"{len(report.refused):,} refused"
    if report.refused and not skip_refused:
        return f"{rows}: {refused}; nothing imported (all or nothing; --skip-refused imports the rest)."
    verb = "would be imported (dry run)" if report.dry_run else "imported"
    return f"{rows}: {report.imported:,} {verb}" + (f", {refused}." if report.refused else ".")


def add_commands(sub: argparse._SubParsersAction) -> None:
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
    find.add_argument("--state", choices=[state.value for state in PortalState])
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

    imp = customer.add_parser(
        "import", help="add the customers of a CSV file (all or nothing)",
        description="Add the customers of a CSV file: UTF-8 (a BOM is fine), a header row naming the "
                    "columns reference (optional: generated when empty), name, company (optional) and "
                    "primary email. Every row is checked first with the rules of `customer add`; each "
                    "refused row is reported with its line number and why, and then nothing is imported "
                    "unless --skip-refused. Exit 0: all imported; 1: rows or the file refused; 2: usage.")
    imp.add_argument("file", metavar="FILE.csv", type=Path)
    imp.add_argument("--dry-run", action="store_true", help="check every row and report; write nothing")
    imp.add_argument("--skip-refused", action="store_true", help="import the rows that pass, report the others")
    imp.add_argument("--strict-email", action="store_true",
                     help="also refuse a Primary Email Address with an invalid address (default: import it as "
                          "the billing system has it; the email actions then say why they are off)")
    imp.add_argument("--json", action="store_true", help="the report as JSON (no progress bar)")
    imp.set_defaults(handler=cmd_customer_import)

    act = sub.add_parser("activity", help="a customer's activity log")
    act.add_argument("reference", metavar="REF")
    act.add_argument("--limit", type=int, default=200)
    act.add_argument("--json", action="store_true")
    act.set_defaults(handler=cmd_activity)
