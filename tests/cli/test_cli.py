"""The scriptable CLI, run as a subprocess the way on-call staff and scripts run it."""
from __future__ import annotations

import json
import re


def test_the_whole_lifecycle_from_the_command_line(cli):
    """add, show, set-username, send, delete, activity: exit 0 and the state follows."""
    added = cli("customer", "add", "--name", "Ada Lovelace", "--email", "a@x.com; b@y.com", "--company", "Engines")
    assert added.returncode == 0, added.stderr
    ref = added.stdout.strip()
    shown = json.loads(cli("customer", "show", ref, "--json").stdout)
    assert shown["reference"] == ref and shown["addresses"] == ["a@x.com", "b@y.com"]
    assert shown["portal"] == {**shown["portal"], "username": None, "state": "not_set_up",
                               "email_action": "credential_create", "password_set_at": None}
    assert cli("portal", "set-username", ref, "ada.l").returncode == 0
    assert json.loads(cli("customer", "show", ref, "--json").stdout)["portal"]["state"] == "awaiting_customer"
    sent = cli("portal", "send", ref)
    assert sent.returncode == 0 and "a@x.com, b@y.com" in sent.stdout
    outbox = json.loads(cli("outbox", "list", "--json").stdout)
    assert [(e["kind"], e["to"], e["status"]) for e in outbox] == [("credential_create", ["a@x.com", "b@y.com"], "queued")]
    assert cli("portal", "delete-username", ref).returncode == 0
    activity = json.loads(cli("activity", ref, "--json").stdout)
    assert [(e["actor"], e["action"]) for e in activity][:3] == [
        ("oncall", "username deleted"), ("oncall", "email queued"), ("oncall", "username set")]
    found = json.loads(cli("customer", "find", "lovelace", "--json").stdout)
    assert [c["reference"] for c in found] == [ref]


def test_domain_errors_exit_1_with_one_line(cli):
    """A taken username, a missing customer, a stale version: exit 1, one sentence on stderr."""
    a = cli("customer", "add", "--name", "A", "--email", "a@x.com").stdout.strip()
    b = cli("customer", "add", "--name", "B", "--email", "b@x.com").stdout.strip()
    cli("portal", "set-username", a, "taken")
    for args, words in (
        (("portal", "set-username", b, "TAKEN"), "That username is already in use."),
        (("customer", "show", "C999999"), "There is no customer with reference 'C999999'."),
        (("portal", "set-username", a, "other", "--expect-version", "1"), "changed by someone else"),
        (("customer", "add", "--name", "C", "--email", "broken@"), "'broken@' is not a valid email address"),
        (("settings", "set", "setup_link_hours", "0"), "from 1 to 720"),
        (("outbox", "retry", "42"), "There is no email with id 42."),
    ):
        result = cli(*args)
        assert result.returncode == 1, args
        assert words in result.stderr and result.stderr.count("\n") == 1, result.stderr
        assert result.stdout == ""


def test_usage_errors_exit_2(cli):
    for args in (("nonsense",), ("customer", "add", "--name", "X"), ("outbox", "retry", "abc"), ("portal",),
                 ("settings", "set", "colour", "blue"), ("customer", "find", "x", "--state", "locked"),
                 ("outbox", "list", "--status", "lost")):
        assert cli(*args).returncode == 2, args


def test_settings_round_trip(cli):
    assert cli("settings", "set", "credential_create_email", "on").returncode == 0
    assert cli("settings", "set", "sender", "Acme Billing <billing@acme.example>").returncode == 0
    settings = json.loads(cli("settings", "show", "--json").stdout)
    assert settings["credential_create_email"] == "on" and settings["sender"] == "Acme Billing <billing@acme.example>"
    assert settings["link_use"] == "open"  # as `settings set link_use` takes it, never the enum's name
    assert "link_use                 open\n" in cli("settings", "show").stdout
    added = cli("customer", "add", "--name", "New", "--email", "new@x.com")
    assert "Customer Credential Create email queued." in added.stderr


def test_invalid_configuration_fails_at_start_naming_the_variable(cli):
    result = cli("settings", "show", env_extra={"PORTAL_SMTP_PORT": "seventy"})
    assert result.returncode == 1
    assert result.stderr.startswith("portal-console: configuration: PORTAL_SMTP_PORT:")
    result = cli("settings", "show", env_extra={"PORTAL_DATABASE_URL": "mysql://x"})
    assert "PORTAL_DATABASE_URL" in result.stderr and result.returncode == 1


def test_an_unreachable_database_is_one_clear_line(cli):
    result = cli("settings", "show", env_extra={"PORTAL_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"})
    assert result.returncode == 1
    assert result.stderr.startswith("portal-console: the database is unavailable:")
    assert "Traceback" not in result.stderr


def test_demo_seeds_every_state_and_can_refresh_itself(cli):
    """`demo` fills a database with customers in every portal state, and refreshes it."""
    seeded = cli("demo", "--seed-only", "--customers", "40")
    assert seeded.returncode == 0, seeded.stderr
    states = {c["state"] for c in json.loads(cli("customer", "find", "", "--limit", "100", "--json").stdout)}
    assert states == {"not_set_up", "awaiting_customer", "active"}
    assert cli("demo", "--seed-only", "--customers", "10").returncode == 0
    assert len(json.loads(cli("customer", "find", "", "--limit", "100", "--json").stdout)) == 10


def test_demo_refuses_to_wipe_a_real_database(cli, tmp_path):
    real = {"PORTAL_DATABASE_URL": f"sqlite:///{tmp_path / 'real.db'}"}
    ref = cli("customer", "add", "--name", "Real Customer", "--email", "real@x.com", env_extra=real).stdout.strip()
    result = cli("demo", "--seed-only", env_extra=real)
    assert result.returncode == 1 and "was not made by `demo`" in result.stderr
    assert cli("customer", "show", ref, env_extra=real).returncode == 0


def test_activity_names_the_customer_and_shows_values_plainly(cli):
    """--json carries the reference in every event; the text shows `(none) -> hwilson2`, no Python reprs."""
    ref = cli("customer", "add", "--name", "Harriet Wilson", "--email", "h@x.com").stdout.strip()
    assert cli("portal", "set-username", ref, "hwilson2").returncode == 0
    events = json.loads(cli("activity", ref, "--json").stdout)
    assert len(events) >= 2 and {e["customer_reference"] for e in events} == {ref}
    text = cli("activity", ref).stdout
    assert re.search(r"username set  \(none\) -> hwilson2$", text, re.MULTILINE), text
    assert "None" not in text and "'" not in text


def test_references_are_found_whatever_their_case(cli):
    """An agent types c000002 for C000002: show, activity and the PORTAL actions find the customer."""
    cli("customer", "add", "--name", "First", "--email", "first@x.com")
    ref = cli("customer", "add", "--name", "Second", "--email", "second@x.com").stdout.strip()
    assert ref == "C000002"
    shown = cli("customer", "show", "c000002")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("C000002  Second\n")
    assert json.loads(cli("customer", "show", "c000002", "--json").stdout)["reference"] == "C000002"
    assert cli("portal", "set-username", "c000002", "second").returncode == 0
    activity = cli("activity", "c000002")
    assert activity.returncode == 0 and "username set  (none) -> second" in activity.stdout
    assert {e["customer_reference"] for e in json.loads(cli("activity", "c000002", "--json").stdout)} == {"C000002"}


def test_a_bad_flag_shows_the_usage_of_its_subcommand(cli):
    """argparse would leave an unknown flag to the top-level parser and show its usage instead."""
    for args, usage in (
        (("customer", "add", "--bogus"), "usage: portal-console customer add"),
        (("customer", "add", "--name", "X", "--email", "x@x.com", "--bogus"), "usage: portal-console customer add"),
        (("customer", "show", "C000001", "--bogus"), "usage: portal-console customer show"),
        (("settings", "show", "--bogus"), "usage: portal-console settings show"),
        (("outbox", "retry", "1", "2"), "usage: portal-console outbox retry"),
    ):
        result = cli(*args)
        assert result.returncode == 2, args
        assert result.stderr.startswith(usage), result.stderr
        assert result.stdout == ""
    unknown = cli("customer", "show", "C000001", "--bogus").stderr
    assert "portal-console customer show: error: unrecognized arguments: --bogus" in unknown
    assert cli("--bogus").stderr.startswith("usage: portal-console [-h]")  # the top level keeps its own


def test_settings_and_outbox_help_list_their_actions(cli):
    """Each action appears in its group's --help with a line saying what it does."""
    for group, actions in (("settings", ("show", "set")), ("outbox", ("list", "retry"))):
        result = cli(group, "--help")
        assert result.returncode == 0
        for action in actions:
            assert re.search(rf"^\s+{action}\s+\w+", result.stdout, re.MULTILINE), (group, action, result.stdout)


def test_find_without_a_match_says_so(cli):
    """No match is not an error: exit 0, no rows on stdout, a line for the person on stderr; --json prints []."""
    cli("customer", "add", "--name", "Ada Lovelace", "--email", "ada@x.com")
    result = cli("customer", "find", "zzzzzz")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "No customer matches 'zzzzzz'.\n")
    in_state = cli("customer", "find", "ada", "--state", "active")
    assert (in_state.returncode, in_state.stdout) == (0, "")
    assert in_state.stderr == "No customer matches 'ada' in state active.\n"
    as_json = cli("customer", "find", "zzzzzz", "--json")
    assert (as_json.returncode, json.loads(as_json.stdout), as_json.stderr) == (0, [], "")
    found = cli("customer", "find", "lovelace")
    assert found.stdout.startswith("C000001\tAda Lovelace\t") and found.stderr == ""


def test_no_arguments_open_the_console_as_the_full_parser_would_say() -> None:
    """`portal-console` alone skips building the parser of every command (start-up time);
    what it decides must be what that parser decides, and arguments still go through it."""
    from cli import console
    from cli.main import build_parser, parse_arguments

    assert vars(parse_arguments([])) == vars(build_parser().parse_args([]))
    assert parse_arguments([]).handler is console.cmd_console
    assert parse_arguments(["demo", "--customers", "5"]).customers == 5
