"""`portal-console portal unlock|sign-out|history|preview` and the customer's side in
`customer show --json`, run as subprocesses on SQLite and PostgreSQL."""
from __future__ import annotations

import json

import pytest

from store import db
from store.errors import InvalidLogin

PASSWORD = "violet tractor sings at dawn"


def in_store(database_url: str, work) -> None:
    """Play the customer (or the mailer) in this process, on the same database as the CLI."""
    db.init(database_url)
    try:
        work()
    finally:
        db.close()


def active_customer(cli, database_url: str) -> str:
    """Ada: username 'ada', a password set with her setup link, signed in once from 203.0.113.20."""
    from store.credentials import complete_link, open_link
    from store.signin import authenticate
    from store.values import LinkPurpose
    from tests.links import live_link

    ref = cli("customer", "add", "--name", "Ada Lovelace", "--email", "ada@x.example").stdout.strip()
    assert cli("portal", "set-username", ref, "ada").returncode == 0
    outbox_id = int(cli("portal", "send", ref).stdout.split("email ")[1].split()[0])

    def set_up() -> None:
        url = live_link(outbox_id)
        complete_link(open_link(url.rsplit("/", 1)[1], LinkPurpose.setup), username=None, password=PASSWORD)
        authenticate("ada", PASSWORD, address="203.0.113.20")

    in_store(database_url, set_up)
    return ref


def lock_out(database_url: str) -> None:
    from store.signin import authenticate

    def guess() -> None:
        for _ in range(5):
            with pytest.raises(InvalidLogin):
                authenticate("ada", "wrong", address="198.51.100.7")

    in_store(database_url, guess)


def test_show_json_has_the_link_and_sign_in(cli, database_url):
    ref = active_customer(cli, database_url)
    lock_out(database_url)
    portal = json.loads(cli("customer", "show", ref, "--json").stdout)["portal"]
    assert portal["link"]["phase"] == "used" and portal["link"]["text"].endswith("password set")
    assert portal["link"]["to"] == ["ada@x.example"]
    sign_in = portal["sign_in"]
    assert sign_in["last_signed_in_from"] == "203.0.113.20" and sign_in["failures_since"] == 5
    assert sign_in["locked"] is True and sign_in["lock_text"].startswith("Locked until")


def test_unlock_then_refused_when_nothing_is_locked(cli, database_url):
    ref = active_customer(cli, database_url)
    lock_out(database_url)
    unlocked = cli("portal", "unlock", ref)
    assert unlocked.returncode == 0 and "5 counted wrong passwords cleared" in unlocked.stdout
    again = cli("portal", "unlock", ref)
    assert again.returncode == 1 and "Nothing to unlock" in again.stderr and again.stdout == ""
    activity = json.loads(cli("activity", ref, "--json").stdout)
    assert [e["action"] for e in activity].count("sign-in unlocked") == 1


def test_sign_out_ends_sessions_and_says_how_many(cli, database_url):
    ref = active_customer(cli, database_url)
    from store.signin import begin_sign_in, finish_sign_in

    in_store(database_url, lambda: finish_sign_in(begin_sign_in("ada", "203.0.113.9"), PASSWORD))
    ended = cli("portal", "sign-out", ref)
    assert ended.returncode == 0 and "1 portal session ended" in ended.stdout
    none = cli("portal", "sign-out", ref)
    assert none.returncode == 1 and "no open portal session" in none.stderr


def test_history_as_text_and_json(cli, database_url):
    ref = active_customer(cli, database_url)
    lock_out(database_url)
    history = json.loads(cli("portal", "history", ref, "--json").stdout)
    assert [e["event"] for e in history][:2] == ["locked", "wrong password"]
    assert {"at", "event", "address", "detail"} <= set(history[0])
    text = cli("portal", "history", ref, "--limit", "3")
    assert text.returncode == 0 and len(text.stdout.splitlines()) == 3
    assert "198.51.100.7" in text.stdout.splitlines()[0]


def test_preview_prints_the_email_and_sends_nothing(cli):
    ref = cli("customer", "add", "--name", "Grace Hopper", "--email", "grace@x.example").stdout.strip()
    preview = cli("portal", "preview", ref)
    assert preview.returncode == 0
    assert "To:      grace@x.example" in preview.stdout and "Hello Grace Hopper," in preview.stdout
    assert "/setup/<link made when the email is sent>" in preview.stdout
    assert json.loads(cli("outbox", "list", "--json").stdout) == []


def test_errors_and_usage(cli):
    bad = cli("customer", "add", "--name", "B", "--email", "b@x.example").stdout.strip()
    assert cli("customer", "update", bad, "--email", "").returncode == 0
    refused = cli("portal", "preview", bad)
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1
    assert cli("portal", "history", "C999999").returncode == 1
    assert cli("portal", "unlock").returncode == 2
    assert cli("portal", "history", bad, "--limit", "x").returncode == 2


def test_suspend_then_resume_and_their_refusals(cli, database_url):
    ref = active_customer(cli, database_url)
    suspended = cli("portal", "suspend", ref, "--reason", "non-payment")
    assert suspended.returncode == 0 and "Suspended since" in suspended.stdout and "non-payment" in suspended.stdout
    portal = json.loads(cli("customer", "show", ref, "--json").stdout)["portal"]
    assert portal["state"] == "suspended" and portal["state_text"].endswith(": non-payment")
    found = cli("customer", "find", "", "--state", "suspended")
    assert found.returncode == 0 and ref in found.stdout

    def refused_sign_in() -> None:
        from store.signin import authenticate

        with pytest.raises(InvalidLogin):
            authenticate("ada", PASSWORD, address="203.0.113.20")

    in_store(database_url, refused_sign_in)
    send = cli("portal", "send", ref)
    assert send.returncode == 1 and "suspended" in send.stderr and send.stdout == ""
    again = cli("portal", "suspend", ref)
    assert again.returncode == 1 and "already suspended" in again.stderr and again.stdout == ""
    resumed = cli("portal", "resume", ref)
    assert resumed.returncode == 0 and "portal access resumed, Active since" in resumed.stdout
    assert json.loads(cli("customer", "show", ref, "--json").stdout)["portal"]["state"] == "active"
    none = cli("portal", "resume", ref)
    assert none.returncode == 1 and "Nothing to resume" in none.stderr
    activity = [e["action"] for e in json.loads(cli("activity", ref, "--json").stdout)]
    assert activity.count("portal suspended") == 1 and activity.count("portal resumed") == 1


def test_suspend_without_a_username_and_usage(cli):
    ref = cli("customer", "add", "--name", "Grace Hopper", "--email", "grace@x.example").stdout.strip()
    refused = cli("portal", "suspend", ref)
    assert refused.returncode == 1 and "Nothing to suspend" in refused.stderr
    assert cli("portal", "suspend", "C999999").returncode == 1
    assert cli("portal", "suspend").returncode == 2
    assert cli("portal", "resume").returncode == 2
