"""Stateful property tests of the credential lifecycle, over the service layer, on SQLite and
PostgreSQL (issue 12, the adversarial suite).

A hypothesis state machine plays agents (set, change and delete the username, send the one
email, switch settings, edit the Primary Email Address) and customers (open links, set
passwords, ask for a reset, sign in) in random order while the clock moves by minutes to days.
It keeps a small model of what each customer should be and, after every step, checks that:

- the portal state follows from the username and password, and there is exactly one email
  action, the one that state offers;
- no two customers hold the same username after normalisation or by look-alike letters;
- a link works at most once, and never after it expired, was replaced or revoked, the username
  changed or a password was set (older tokens of a re-issued email never work);
- every change is in the activity log, by whom, from what to what;
- every queued email goes to all valid addresses of the Primary Email Address;
- no stored row holds a plain link token or a password typed so far.

Links: the database never holds a working token; the machine gets one the way the mailer
does (tests/links.py), and issuing again replaces it, so it keeps every token it was given.
"""
from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, event, settings, strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine, initialize, invariant, precondition, rule, run_state_machine_as_test,
)

from store import db
from store.activity import ACTOR_CUSTOMER, ACTOR_SYSTEM, list_activity
from store.credentials import complete_link, open_link
from store.customers import add_customer, update_customer
from store.errors import (
    ActionNotAllowed, FormExpired, FormTriesUsedUp, InvalidLogin, InvalidPrimaryEmail, InvalidUsername,
    LinkUnusable, NoPrimaryEmail, UsernameTaken, WeakPassword,
)
from store.links import FORM_TRIES, GRANT_MINUTES, PURPOSE_OF_KIND, issue_token
from store.models import ALL_MODELS
from store.panel import delete_username, send_portal_email, set_username
from store.prompts import PROMPT_EMAILS_PER_HOUR, request_password_reset
from store.records import portal_view
from store.settings import get_settings, update_setting
from store.signin import Limit, SignInLimits, authenticate
from store.usernames import username_key
from store.values import EmailKind, LinkPurpose, PortalState

from tests.conftest import TEST_NOW
from tests.links import live_link

AGENT = "alice"
CLIENT = "198.51.100.7"
# Sign-in limits no run of the machine reaches: the limits have their own tests
# (tests/store/test_signin.py); here a wrong password must read InvalidLogin, nothing else.
NO_LIMITS = SignInLimits(per_pair=10_000, per_username=Limit(10_000, timedelta(hours=1)),
                         per_address=Limit(10_000, timedelta(minutes=15)))
SETUP_HOURS, RESET_HOURS = 72, 2  # the account's defaults (store/settings.py)
# Argon2 takes a tenth of a second a password on this kind of machine: an example sends
# forms and signs in at most this many times, so the module stays within its budget.
PASSWORD_STEPS = 3

# Usernames from a small alphabet of look-alikes: case, full-width letters, Cyrillic а с е о,
# "rn" beside "m". Valid ones collide by their key; mixed-script and short ones are refused.
VALID_USERNAMES = (
    "ada", "Ada", "\uff41\uff44\uff41",  # ａｄａ: NFKC makes it "ada"
    "\uff21\uff24\uff21",  # ＡＤＡ: "ADA"
    "ace", "\u0430\u0441\u0435",  # асе: Cyrillic only, looks like "ace"
    "modern", "rnodern", "bob", "m.ada", "rn.ada",
)
REFUSED_USERNAMES = (
    "\u0430da",  # Cyrillic а with Latin "da": mixed scripts
    "b\u043eb",  # Latin b, Cyrillic о
    "ab",  # too short
)
USERNAMES = VALID_USERNAMES + REFUSED_USERNAMES
STRONG_PASSWORDS = ("violet tractor sings at dawn", "copper kettle drifts north", "seven quiet lanterns ahead")
WEAK_PASSWORDS = ("qwerty12", "hunter2", "11111111")
# Primary Email Address fields an agent may type, with the addresses each stands for;
# the last two are refused.
EMAIL_FIELDS = {
    "ada@example.com": ("ada@example.com",),
    "ada@example.com, billing@example.com": ("ada@example.com", "billing@example.com"),
    "bob@example.org; BOB@example.org": ("bob@example.org",),
    "": (),
}
BAD_EMAIL_FIELDS = ("not-an-address", "ada@example.com, oops")
PROMPT_IDENTIFIERS = ("ada", "\uff41\uff44\uff41", "\u0430\u0441\u0435", "modern", "bob",
                      "ada@example.com", "BILLING@example.com", "bob@example.org", "nobody@example.net")
# Minutes the clock moves: the edges of the form's 30 minutes and the links' 2 h and 72 h,
# and anything up to four days.
MINUTES = st.one_of(
    st.sampled_from([1, GRANT_MINUTES - 1, GRANT_MINUTES, GRANT_MINUTES + 1, RESET_HOURS * 60,
                     RESET_HOURS * 60 + 1, SETUP_HOURS * 60, 24 * 60]),
    st.integers(min_value=1, max_value=4 * 24 * 60),
)
INDEX = st.integers(min_value=0, max_value=63)  # taken modulo the length of what it picks from


def _empty() -> None:
    """Every table emptied for the next example: DELETE, since the few rows a run writes go
    faster that way than by TRUNCATE (tests/conftest.py's _empty_tables), which on PostgreSQL
    costs a third of a second each time."""
    with db.database.atomic():
        for model in reversed(ALL_MODELS):
            db.database.execute_sql(f'DELETE FROM "{model._meta.table_name}"')


def _cleaned(typed: str) -> str:
    """The username as the store keeps it: NFKC and trimmed."""
    return unicodedata.normalize("NFKC", typed).strip()


def _sql(query: str, params: tuple = ()) -> list[tuple]:
    if db.is_postgres():
        query = query.replace("?", "%s")
    return list(db.database.execute_sql(query, params).fetchall())


@dataclass
class Customer:
    ref: str
    id: int
    email_field: str
    addresses: tuple[str, ...]
    username: str | None = None
    password: str | None = None
    activity: list[tuple] = field(default_factory=list)  # (actor, action, old, new), oldest first
    prompt_emails: list[datetime] = field(default_factory=list)  # when customers' asks queued one

    @property
    def state(self) -> PortalState:
        if self.username is None:
            return PortalState.not_set_up
        return PortalState.awaiting_customer if self.password is None else PortalState.active


@dataclass
class Link:
    """A queued email's one-time link, as the model sees it."""

    outbox_id: int
    link_id: int
    ref: str
    purpose: LinkPurpose
    to: tuple[str, ...]
    expires_at: datetime
    tokens: list[str] = field(default_factory=list)  # issued, oldest first: only the last may work
    used_at: datetime | None = None
    revoked: bool = False  # replaced, or stopped by a change; a used link may be revoked too
    tries: int = 0

    def alive(self, now: datetime) -> bool:
        return self.used_at is None and not self.revoked and now < self.expires_at


@dataclass
class Grant:
    grant: object
    link: Link
    opened_at: datetime


class LifecycleMachine(RuleBasedStateMachine):
    clock = None  # the test's FixedClock, set by the test on a subclass

    def __init__(self) -> None:
        super().__init__()
        _empty()
        self.clock.set(TEST_NOW)
        self.customers: list[Customer] = []
        self.links: dict[int, Link] = {}
        self.grants: list[Grant] = []
        self.switches = {"credential_create_email": False, "password_reset_email": False, "link_use": "open"}
        self.account_activity: list[tuple] = []
        self.secrets: set[str] = set()  # every token issued and password typed so far
        self.max_outbox = 0
        self.password_steps = 0

    # ---- helpers ---------------------------------------------------------------------------

    def now(self) -> datetime:
        return self.clock.now()

    def by_ref(self, ref: str) -> Customer:
        return next(c for c in self.customers if c.ref == ref)

    def owner_of_key(self, key: str) -> Customer | None:
        return next((c for c in self.customers if c.username is not None and username_key(c.username) == key), None)

    def stop_everything(self, customer: Customer) -> None:
        """A new username, a deleted one, a new address or a password set: no link of the
        customer works any more, nor does a form one of them opened."""
        for link in self.links.values():
            if link.ref == customer.ref:
                link.revoked = True

    def take_new_emails(self, expected: list[tuple[Customer, EmailKind]]) -> list[Link]:
        """The outbox rows written since the last look: exactly the ones expected, each to
        every valid address of its customer; their older unused links of that purpose stop."""
        rows = _sql("SELECT id, customer_id, kind, to_addresses, link_id FROM outbox_email WHERE id > ? ORDER BY id",
                    (self.max_outbox,))
        got = sorted((r[1], r[2]) for r in rows)
        assert got == sorted((c.id, k.value) for c, k in expected), f"queued {got}, expected {expected}"
        made = []
        for outbox_id, customer_id, kind, to, link_id in rows:
            customer = next(c for c in self.customers if c.id == customer_id)
            assert tuple(json.loads(to)) == customer.addresses and customer.addresses, (to, customer)
            purpose = PURPOSE_OF_KIND[EmailKind(kind)]
            for old in self.links.values():
                if old.ref == customer.ref and old.purpose is purpose and old.used_at is None:
                    old.revoked = True
            hours = SETUP_HOURS if purpose is LinkPurpose.setup else RESET_HOURS
            link = Link(outbox_id, link_id, customer.ref, purpose, customer.addresses, self.now() + timedelta(hours=hours))
            self.links[outbox_id] = link
            made.append(link)
            self.max_outbox = max(self.max_outbox, outbox_id)
        return made

    # ---- agents ----------------------------------------------------------------------------

    def _add(self, email_field: str) -> None:
        number = len(self.customers) + 1
        new = add_customer(name=f"Customer {number}", company="Acme Holdings", primary_email=email_field, actor=AGENT)
        customer_id = _sql("SELECT id FROM customer WHERE reference = ?", (new.reference,))[0][0]
        customer = Customer(new.reference, customer_id, email_field, EMAIL_FIELDS[email_field])
        self.customers.append(customer)
        customer.activity.append((AGENT, "customer created", None, None))
        queues = self.switches["credential_create_email"] and bool(customer.addresses)
        assert new.credential_create_queued is queues
        if queues:
            customer.activity.append((ACTOR_SYSTEM, "email queued", None, None))
            self.take_new_emails([(customer, EmailKind.credential_create)])
        else:
            customer.activity.append((ACTOR_SYSTEM, "email not sent", None, None))
            self.take_new_emails([])

    @initialize(create_on=st.sampled_from([True, True, False]))
    def two_customers(self, create_on: bool) -> None:
        if create_on:
            self._switch("credential_create_email", "on")
        self._add("ada@example.com, billing@example.com")
        self._add("bob@example.org; BOB@example.org")

    def agent_sets_username(self, who: int, typed: str) -> None:
        customer = self.customers[who % len(self.customers)]
        name = _cleaned(typed)
        if typed in REFUSED_USERNAMES:
            with pytest.raises(InvalidUsername):
                set_username(customer.ref, typed, expected_version=None, actor=AGENT)
            return
        if customer.username == name:
            view = set_username(customer.ref, typed, expected_version=None, actor=AGENT)
            assert view.username == name
            return
        owner = self.owner_of_key(username_key(name))
        if owner is not None and owner is not customer:
            event("a look-alike username refused")
            with pytest.raises(UsernameTaken):
                set_username(customer.ref, typed, expected_version=None, actor=AGENT)
            return
        view = set_username(customer.ref, typed, expected_version=None, actor=AGENT)
        assert view.username == name
        if customer.username is None:
            customer.activity.append((AGENT, "username set", None, name))
        else:
            customer.activity.append((AGENT, "username changed", customer.username, name))
            self.stop_everything(customer)
        customer.username = name

    def agent_deletes_username(self, who: int) -> None:
        customer = self.customers[who % len(self.customers)]
        if customer.username is None:
            with pytest.raises(ActionNotAllowed):
                delete_username(customer.ref, expected_version=None, actor=AGENT)
            return
        view = delete_username(customer.ref, expected_version=None, actor=AGENT)
        assert view.state is PortalState.not_set_up
        customer.activity.append((AGENT, "username deleted", customer.username, None))
        customer.username = customer.password = None
        self.stop_everything(customer)

    def agent_sends_the_email(self, who: int) -> None:
        customer = self.customers[who % len(self.customers)]
        if not customer.addresses:
            with pytest.raises(NoPrimaryEmail):
                send_portal_email(customer.ref, actor=AGENT)
            return
        kind = EmailKind.password_reset if customer.state is PortalState.active else EmailKind.credential_create
        queued = send_portal_email(customer.ref, actor=AGENT)
        assert (queued.kind, queued.to) == (kind, customer.addresses)
        customer.activity.append((AGENT, "email queued", None, None))
        [link] = self.take_new_emails([(customer, kind)])
        assert queued.outbox_id == link.outbox_id and queued.link_expires_at == link.expires_at

    def agent_edits_primary_email(self, who: int, email_field: str) -> None:
        customer = self.customers[who % len(self.customers)]
        if email_field in BAD_EMAIL_FIELDS:
            with pytest.raises(InvalidPrimaryEmail):
                update_customer(customer.ref, expected_version=None, actor=AGENT, primary_email=email_field)
            return
        update_customer(customer.ref, expected_version=None, actor=AGENT, primary_email=email_field)
        if email_field != customer.email_field:
            customer.activity.append((AGENT, "primary email changed", customer.email_field, email_field))
            customer.email_field, customer.addresses = email_field, EMAIL_FIELDS[email_field]
            self.stop_everything(customer)

    def _switch(self, key: str, value: str) -> None:
        update_setting(key, value, actor=AGENT)
        shown = {True: "on", False: "off"}
        before = self.switches[key]
        after = (value == "on") if key != "link_use" else value
        if before != after:
            self.account_activity.append((AGENT, "setting changed", shown.get(before, before), shown.get(after, after)))
        self.switches[key] = after

    def agent_switches_setting(self, change: tuple[str, str]) -> None:
        self._switch(*change)

    def time_passes(self, minutes: int) -> None:
        self.clock.advance(timedelta(minutes=minutes))

    # ---- customers -------------------------------------------------------------------------

    def customer_opens_link(self, which: int, token: str, wrong_purpose: bool) -> None:
        """The customer clicks the link of an email: one issued now (as the mailer sends it),
        the same clicked twice (a mail filter, then the customer), the last one issued again
        later, or one of an earlier issue of the same email."""
        ids = sorted(self.links)
        link = self.links[ids[which % len(ids)]]
        if token in ("again", "older") and len(link.tokens) < (1 if token == "again" else 2):
            token = "fresh"
        self._open(link, "fresh" if token == "twice" else token, which, wrong_purpose)
        if token == "twice" and link.tokens:
            self._open(link, "again", which, wrong_purpose)

    def customer_follows_newest_email(self, who: int, typed: str | None, password: str) -> None:
        """The customer opens their newest email as it arrives (the agent sends one first when
        none works) and sends its form at once: the whole way to ACTIVE in one step, so runs
        get there often."""
        customer = self.customers[who % len(self.customers)]
        mine = [link for _, link in sorted(self.links.items()) if link.ref == customer.ref]
        if not mine or not mine[-1].alive(self.now()):
            self.agent_sends_the_email(who)
            mine = [link for _, link in sorted(self.links.items()) if link.ref == customer.ref]
            if not mine:
                return
        held = self._open(mine[-1], "fresh", who, False)
        if held is not None and self._send(held, typed, password):
            self.customer_signs_in(customer.username, password)  # with the password just set

    def _open(self, link: Link, token: str, which: int, wrong_purpose: bool) -> Grant | None:
        now = self.now()
        if token == "fresh":
            if link.used_at is not None:
                # Used: the mailer can't issue it again (tests/links.py would say so too).
                assert issue_token(link.link_id, link.purpose.value, get_settings().portal_url) is None
                return None
            if link.alive(now):
                url = live_link(link.outbox_id)
            else:
                # Revoked by the model's rules or expired: the store may still issue for an
                # expired link; whatever it issues must not open.
                url = issue_token(link.link_id, link.purpose.value, get_settings().portal_url)
                if url is None:
                    return None
            link.tokens.append(url.rsplit("/", 1)[1])
            self.secrets.add(link.tokens[-1])
            current = True
        elif token == "again" and link.tokens:
            current = True
        elif token == "older" and len(link.tokens) > 1:
            current = False
        else:
            return None
        typed = link.tokens[-1] if current else link.tokens[which % (len(link.tokens) - 1)]
        purpose = link.purpose
        if wrong_purpose:
            purpose = LinkPurpose.reset if purpose is LinkPurpose.setup else LinkPurpose.setup
        if not (current and not wrong_purpose and link.alive(now)):
            with pytest.raises(LinkUnusable):
                open_link(typed, purpose)
            return None
        grant = open_link(typed, purpose)
        event("a link opened")
        customer = self.by_ref(link.ref)
        assert (grant.customer_reference, grant.purpose, grant.username) == (link.ref, link.purpose, customer.username)
        assert grant.consumed is (self.switches["link_use"] == "open")
        if grant.consumed:
            link.used_at = now
            customer.activity.append((ACTOR_CUSTOMER, f"{link.purpose.value} link opened", None, None))
        held = Grant(grant, link, now)
        self.grants.append(held)
        return held

    def customer_sends_form(self, which: int, typed: str | None, password: str) -> None:
        """The customer sends the form an opened link gave: username (when asked) and password."""
        self._send(self.grants[which % len(self.grants)], typed, password)

    def _send(self, held: Grant, typed: str | None, password: str) -> bool:
        """Sends the form as the customer; True when the password was set."""
        link, customer, now = held.link, self.by_ref(held.link.ref), self.now()
        self.secrets.add(password)
        self.password_steps += 1

        def send():
            return complete_link(held.grant, username=typed, password=password)

        if now - held.opened_at > timedelta(minutes=GRANT_MINUTES):
            with pytest.raises(FormExpired):
                send()
            return False
        if link.tries >= FORM_TRIES:
            with pytest.raises(FormTriesUsedUp):
                send()
            return False
        link.tries += 1
        if customer.username is not None and link.purpose is LinkPurpose.reset:
            name = customer.username
        elif typed is None:
            name = customer.username
            if name is None:
                with pytest.raises(InvalidUsername):
                    send()
                return False
        elif typed in REFUSED_USERNAMES:
            with pytest.raises(InvalidUsername):
                send()
            return False
        else:
            name = _cleaned(typed)
        if password in WEAK_PASSWORDS:
            with pytest.raises(WeakPassword):
                send()
            return False
        usable = not link.revoked if held.grant.consumed else link.alive(now)
        if not usable:
            with pytest.raises(LinkUnusable):
                send()
            return False
        owner = self.owner_of_key(username_key(name))
        if owner is not None and owner is not customer:
            with pytest.raises(UsernameTaken):
                send()
            return False
        signed_in = send()
        event("a password set with a link")
        assert (signed_in.reference, signed_in.username) == (customer.ref, name)
        if customer.username is None:
            customer.activity.append((ACTOR_CUSTOMER, "username set", None, name))
        elif customer.username != name:
            customer.activity.append((ACTOR_CUSTOMER, "username changed", customer.username, name))
        customer.activity.append((ACTOR_CUSTOMER, "password set", None, None))
        if not held.grant.consumed:
            link.used_at = now
        customer.username, customer.password = name, password
        self.stop_everything(customer)
        return True

    def customer_asks_for_reset(self, identifier: str) -> None:
        """Forgot Password on the login page: a username or an address."""
        now = self.now()
        named = self.owner_of_key(username_key(identifier))
        matched = [named] if named is not None else []
        if "@" in identifier:
            matched += [c for c in self.customers if c is not named
                        and identifier.casefold() in (a.casefold() for a in c.addresses)]
        request_password_reset(identifier, prompt="Forgot Password")
        queued = []
        for customer in matched:
            recent = [t for t in customer.prompt_emails if t > now - timedelta(hours=1)]
            if (self.switches["password_reset_email"] and customer.addresses
                    and len(recent) < PROMPT_EMAILS_PER_HOUR):
                customer.activity.append((ACTOR_CUSTOMER, "email queued", None, None))
                customer.prompt_emails.append(now)
                queued.append((customer, EmailKind.password_reset))
            else:
                customer.activity.append((ACTOR_CUSTOMER, "email not sent", None, None))
        self.take_new_emails(queued)

    def customer_signs_in(self, typed: str, password: str) -> None:
        self.secrets.add(password)
        self.password_steps += 1
        owner = self.owner_of_key(username_key(typed))
        if owner is None or owner.password != password:
            with pytest.raises(InvalidLogin):
                authenticate(typed, password, address=CLIENT, limits=NO_LIMITS)
            return
        who = authenticate(typed, password, address=CLIENT, limits=NO_LIMITS)
        event("a customer signed in")
        assert (who.reference, who.username) == (owner.ref, owner.username)

    # ---- the rules ---------------------------------------------------------------------------
    # One argument each, and named so the customer's side sorts first: hypothesis orders rules
    # by how many arguments they take, then by name, and draws the early ones more often.

    @precondition(lambda self: self.links)
    @rule(click=st.tuples(INDEX, st.sampled_from(["fresh", "twice", "again", "older"]),
                          st.sampled_from([False, False, False, True])))
    def customer_clicks_link(self, click: tuple[int, str, bool]) -> None:
        self.customer_opens_link(*click)

    @precondition(lambda self: self.password_steps < PASSWORD_STEPS)
    @rule(journey=st.tuples(INDEX, st.sampled_from((None,) + USERNAMES),
                            st.sampled_from(STRONG_PASSWORDS + WEAK_PASSWORDS[:1])))
    def customer_follows_email(self, journey: tuple[int, str | None, str]) -> None:
        self.customer_follows_newest_email(*journey)

    @precondition(lambda self: self.grants and self.password_steps < PASSWORD_STEPS)
    @rule(form=st.tuples(INDEX, st.sampled_from((None,) + USERNAMES),
                         st.sampled_from(STRONG_PASSWORDS + WEAK_PASSWORDS)))
    def customer_comes_back_to_form(self, form: tuple[int, str | None, str]) -> None:
        self.customer_sends_form(*form)

    @rule(identifier=st.sampled_from(PROMPT_IDENTIFIERS))
    def customer_forgot_password(self, identifier: str) -> None:
        self.customer_asks_for_reset(identifier)

    @precondition(lambda self: self.password_steps < PASSWORD_STEPS
                  and any(c.password is not None for c in self.customers))
    @rule(attempt=st.tuples(st.sampled_from(VALID_USERNAMES + REFUSED_USERNAMES[:1]),
                            st.sampled_from(STRONG_PASSWORDS + WEAK_PASSWORDS[:1])))
    def customer_tries_sign_in(self, attempt: tuple[str, str]) -> None:
        self.customer_signs_in(*attempt)

    @rule(minutes=MINUTES)
    def the_clock_moves(self, minutes: int) -> None:
        self.time_passes(minutes)

    @precondition(lambda self: len(self.customers) < 3)
    @rule(email_field=st.sampled_from(sorted(EMAIL_FIELDS)))
    def panel_adds_customer(self, email_field: str) -> None:
        self._add(email_field)

    @rule(update=st.tuples(INDEX, st.sampled_from(USERNAMES)))
    def panel_updates_username(self, update: tuple[int, str]) -> None:
        self.agent_sets_username(*update)

    @precondition(lambda self: any(c.username is not None for c in self.customers))
    @rule(who=INDEX)
    def panel_deletes_username(self, who: int) -> None:
        self.agent_deletes_username(who)

    @rule(who=INDEX)
    def panel_sends_email(self, who: int) -> None:
        self.agent_sends_the_email(who)

    @rule(edit=st.tuples(INDEX, st.sampled_from(sorted(EMAIL_FIELDS) + list(BAD_EMAIL_FIELDS))))
    def panel_edits_primary_email(self, edit: tuple[int, str]) -> None:
        self.agent_edits_primary_email(*edit)

    @rule(change=st.sampled_from([("credential_create_email", "on"), ("credential_create_email", "off"),
                                  ("password_reset_email", "on"), ("password_reset_email", "off"),
                                  ("link_use", "open"), ("link_use", "submit")]))
    def settings_switch(self, change: tuple[str, str]) -> None:
        self._switch(*change)

    # ---- invariants ------------------------------------------------------------------------

    @invariant()
    def state_follows_username_and_password(self) -> None:
        for customer in self.customers:
            view = portal_view(customer.ref)
            assert (view.username, view.state) == (customer.username, customer.state), customer
            assert (view.password_set_at is not None) is (customer.password is not None)
            # Exactly one email action, the one the state offers.
            action = EmailKind.password_reset if customer.state is PortalState.active else EmailKind.credential_create
            assert view.email_action is action
            assert view.addresses == customer.addresses
            assert view.can_send is bool(customer.addresses)

    @invariant()
    def usernames_unique_by_normal_form_and_look(self) -> None:
        rows = _sql("SELECT customer_id, username, username_key FROM portal_login")
        expected = sorted((c.id, c.username) for c in self.customers if c.username is not None)
        assert sorted((r[0], r[1]) for r in rows) == expected
        for _, name, key in rows:
            assert key == username_key(name)
        normal = [unicodedata.normalize("NFKC", r[1]).casefold() for r in rows]
        assert len(set(normal)) == len(normal), rows
        assert len({r[2] for r in rows}) == len(rows), rows

    @invariant()
    def links_used_once_and_in_time(self) -> None:
        rows = _sql("SELECT o.id, l.used_at, l.expires_at, l.revoked_at FROM outbox_email o "
                    "JOIN portal_link l ON l.id = o.link_id")
        assert len(rows) == len(self.links)
        for outbox_id, used_at, expires_at, revoked_at in rows:
            link = self.links[outbox_id]
            used_at = _aware(used_at)
            assert used_at == link.used_at, (link, used_at)
            if used_at is not None:
                assert used_at < _aware(expires_at)
            if revoked_at is not None and used_at is not None:
                assert used_at <= _aware(revoked_at)

    @invariant()
    def every_change_logged(self) -> None:
        for customer in self.customers:
            logged = [(e.actor, e.action, e.old_value, e.new_value) for e in reversed(list_activity(customer.ref))]
            assert logged == customer.activity, customer.ref
        logged = [(e.actor, e.action, e.old_value, e.new_value)
                  for e in reversed(list_activity(None))]
        assert logged == self.account_activity

    @invariant()
    def emails_go_to_every_valid_address(self) -> None:
        rows = _sql("SELECT id, to_addresses FROM outbox_email")
        assert {r[0]: tuple(json.loads(r[1])) for r in rows} == {i: link.to for i, link in self.links.items()}

    @invariant()
    def no_plain_secret_stored(self) -> None:
        if not self.secrets:
            return
        for model in ALL_MODELS:
            for row in _sql(f'SELECT * FROM "{model._meta.table_name}"'):
                for value in row:
                    if isinstance(value, str):
                        leaked = [s for s in self.secrets if s in value]
                        assert not leaked, f"{model._meta.table_name} holds {leaked!r} in {value!r}"


def _aware(value):
    """A time read with plain SQL, as aware UTC (SQLite hands back text)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=TEST_NOW.tzinfo) if value.tzinfo is None else value


LIFECYCLE_SETTINGS = settings(
    max_examples=30, stateful_step_count=25, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.filter_too_much],
)


def test_lifecycle_properties_hold(store_db, fixed_clock) -> None:
    """Random agent and customer actions with the clock moving keep every invariant, on each backend."""
    machine = type("LifecycleOnThisBackend", (LifecycleMachine,), {"clock": fixed_clock})
    run_state_machine_as_test(machine, settings=LIFECYCLE_SETTINGS)


def test_link_use_change_is_logged_in_words(store_db) -> None:
    """Found by the machine above: switching link_use must be logged from 'open' to 'submit'."""
    update_setting("link_use", "submit", actor=AGENT)
    [entry] = list_activity(None)
    assert (entry.old_value, entry.new_value) == ("open", "submit")


def test_form_opened_just_before_a_username_change_stops(store_db, fixed_clock) -> None:
    """The machine's rule at the edge it draws (GRANT_MINUTES): a form opened before the agent
    changed the username must not set a password after the change, at any instant."""
    reference = add_customer(name="Ada", primary_email="ada@example.com", actor=AGENT).reference
    set_username(reference, "first.name", expected_version=None, actor=AGENT)
    queued = send_portal_email(reference, actor=AGENT)
    grant = open_link(live_link(queued.outbox_id).rsplit("/", 1)[1], LinkPurpose.setup)
    fixed_clock.advance(timedelta(minutes=GRANT_MINUTES))
    set_username(reference, "second.name", expected_version=None, actor=AGENT)
    with pytest.raises(LinkUnusable):
        complete_link(grant, username=None, password=STRONG_PASSWORDS[0])
