"""`portal-console customer update`: change name, company or Primary Email Address from the command line."""
from __future__ import annotations

import json


def _show(cli, ref: str) -> dict:
    return json.loads(cli("customer", "show", ref, "--json").stdout)


def test_update_prints_each_change_and_the_links_a_new_address_revoked(cli):
    ref = cli("customer", "add", "--name", "Ada", "--email", "ada@x.com").stdout.strip()
    assert cli("portal", "set-username", ref, "ada").returncode == 0
    assert cli("portal", "send", ref).returncode == 0  # an open setup link, sent to ada@x.com
    version = _show(cli, ref)["version"]

    result = cli("customer", "update", ref.lower(), "--name", "Ada Lovelace", "--company", "Engines",
                 "--email", "ada@engines.example", "--expect-version", str(version))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"{ref}: Name: Ada -> Ada Lovelace",
        f"{ref}: Company: (empty) -> Engines",
        f"{ref}: Primary Email Address: ada@x.com -> ada@engines.example",
        f"{ref}: now version {version + 1}.",
        f"{ref}: 1 open link sent to the old address revoked; they no longer work. "
        f"Send a new email from PORTAL: portal-console portal send {ref}",
    ]
    shown = _show(cli, ref)
    assert (shown["name"], shown["company"], shown["primary_email"], shown["version"]) == (
        "Ada Lovelace", "Engines", "ada@engines.example", version + 1)
    logged = [e["action"] for e in json.loads(cli("activity", ref, "--json").stdout)]
    assert {"name changed", "company changed", "primary email changed"} <= set(logged)

    # One field; the address unchanged says nothing of links; the same value changes nothing.
    renamed = cli("customer", "update", ref, "--name", "A. Lovelace")
    assert renamed.stdout.splitlines() == [f"{ref}: Name: Ada Lovelace -> A. Lovelace", f"{ref}: now version {version + 2}."]
    same = cli("customer", "update", ref, "--company", "Engines")
    assert (same.returncode, same.stdout) == (0, f"{ref}: nothing changed (version {version + 2}).\n")
    moved = cli("customer", "update", ref, "--email", "ada@elsewhere.example")
    assert moved.stdout.splitlines()[-1] == f"{ref}: no open links to revoke."


def test_update_without_a_field_is_a_usage_error(cli):
    ref = cli("customer", "add", "--name", "Ada", "--email", "ada@x.com").stdout.strip()
    result = cli("customer", "update", ref)
    assert result.returncode == 2
    assert result.stderr.startswith("usage: portal-console customer update")
    assert "give at least one of --name, --company, --email" in result.stderr
    assert cli("customer", "update", ref, "--expect-version", "1").returncode == 2
    assert _show(cli, ref)["version"] == 1


def test_an_invalid_address_is_one_line_and_nothing_is_written(cli):
    ref = cli("customer", "add", "--name", "Ada", "--email", "ada@x.com").stdout.strip()
    before = _show(cli, ref)
    events = cli("activity", ref, "--json").stdout
    result = cli("customer", "update", ref, "--name", "Someone Else", "--email", "broken@")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith("portal-console: 'broken@' is not a valid email address")
    assert result.stderr.count("\n") == 1
    assert _show(cli, ref) == before
    assert cli("activity", ref, "--json").stdout == events


def test_a_stale_version_is_refused_with_a_next_step(cli):
    ref = cli("customer", "add", "--name", "Ada", "--email", "ada@x.com").stdout.strip()
    assert cli("customer", "update", ref, "--company", "Engines").returncode == 0  # now version 2
    before = _show(cli, ref)
    result = cli("customer", "update", ref, "--name", "Stale", "--expect-version", "1")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == (
        "portal-console: This customer was changed by someone else after you read it. Nothing was saved. "
        f"Run `portal-console customer show {ref}` for the current version.\n")
    assert _show(cli, ref) == before
    # The PORTAL actions that take --expect-version say the same.
    stale = cli("portal", "set-username", ref, "ada", "--expect-version", "1")
    assert stale.returncode == 1 and "for the current version." in stale.stderr and "screen" not in stale.stderr
