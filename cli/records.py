"""`portal-console settings show|set` and `outbox list|retry`: the account's settings and its emails."""
from __future__ import annotations

import argparse

from store.config import load_config
from store.settings import KEYS
from store.values import OutboxStatus

from .output import plain, print_json, shown


def cmd_settings_show(args: argparse.Namespace) -> int:
    from store.settings import KEYS, get_settings, setting_text

    settings = get_settings()
    values = {key: setting_text(settings, key) for key in KEYS}
    if args.json:
        print_json({**values, **{k: v for k, v in plain(settings).items() if k not in values}})
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
        print_json(list(emails))
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


def add_commands(sub: argparse._SubParsersAction) -> None:
    settings = sub.add_parser("settings", help="account settings").add_subparsers(metavar="ACTION", required=True)
    s_show = settings.add_parser("show", help="every account setting and its value")
    s_show.add_argument("--json", action="store_true")
    s_show.set_defaults(handler=cmd_settings_show)
    # The keys are the store's; a value is checked there, with the reason it is refused.
    s_set = settings.add_parser("set", help="change one setting: KEY VALUE, as `settings show` lists them")
    s_set.add_argument("key", metavar="KEY", choices=KEYS, help=f"one of: {', '.join(KEYS)}")
    s_set.add_argument("value", metavar="VALUE")
    s_set.set_defaults(handler=cmd_settings_set)

    outbox = sub.add_parser("outbox", help="queued, sent and failed emails").add_subparsers(metavar="ACTION", required=True)
    o_list = outbox.add_parser("list", help="the newest emails with their status (and why one failed)")
    o_list.add_argument("--status", choices=[status.value for status in OutboxStatus])
    o_list.add_argument("--limit", type=int, default=200)
    o_list.add_argument("--json", action="store_true")
    o_list.set_defaults(handler=cmd_outbox_list)
    o_retry = outbox.add_parser("retry", help="queue a failed email again")
    o_retry.add_argument("id", type=int, metavar="ID")
    o_retry.set_defaults(handler=cmd_outbox_retry)
