"""Demo data: customers in every portal state, made the same way every time."""
from __future__ import annotations

import json
import random
from datetime import timedelta
from typing import Callable

from . import activity, clock, search_index
from .db import database, write
from .errors import PortalError
from .models import ALL_MODELS, AccountSetting, Customer, OutboxEmail, PortalLink, PortalLogin
from .passwords import hash_password
from .panel import send_portal_email
from .settings import get_settings, update_setting
from .usernames import username_key
from .values import OutboxStatus

# Every ACTIVE demo customer signs in to the portal with this password.
DEMO_PASSWORD = "demo-portal-pass-2026"

_FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Ken", "Radia", "Linus", "Margaret", "Donald",
          "Frances", "John", "Katherine", "Tim", "Hedy", "Dennis", "Sophie", "Niklaus", "Anita", "Guido"]
_LAST = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Thompson", "Perlman", "Torvalds",
         "Hamilton", "Knuth", "Allen", "McCarthy", "Johnson", "Berners-Lee", "Lamarr", "Ritchie",
         "Wilson", "Wirth", "Borg", "van Rossum"]
_COMPANY = ["Acme Freight", "Globex", "Initech", "Umbrella Health", "Stark Mills", "Wayne Logistics",
            "Tyrell Farms", "Soylent Foods", "Hooli", "Vandelay Imports", "Pied Piper", "Cyberdyne"]

# The first customers are fixed so screenshots and snapshot tests show the same people.
_FIXED = [
    # name, company, primary email as typed, username, password set
    ("Ada Lovelace", "Analytical Engines Ltd", "ada@engines.example", "ada.lovelace", True),
    ("Grace Hopper", "Compiler Works", "grace@compiler.example; billing@compiler.example", "ghopper", False),
    ("Alan Turing", "Bletchley Billing", "alan@bletchley.example", None, False),
    ("Edsger Dijkstra", "Shortest Path BV", "", None, False),
    ("Barbara Liskov", "Substitution Inc", "barbara@substitution", None, False),
    ("Ken Thompson", "Unix Supply Co", "ken@unix.example, dmr@unix.example  ops@unix.example", "kthompson", True),
]


class DemoRefused(PortalError):
    title = "Not a demo database"


# (stage, done, total) as seeding goes: "customers", then "search index".
SeedProgress = Callable[[str, int, int], None]


def seed(customers: int = 60, *, actor: str = "demo", progress: SeedProgress | None = None) -> int:
    """Wipe a demo database (never a real one) and fill it with ``customers`` customers.

    ``progress`` hears how far it is (a million customers take a minute or two): the
    customers written, then the search index built once at the end (its triggers are off
    meanwhile, which is much faster than indexing row by row)."""
    if Customer.select().exists() and not AccountSetting.get_or_none(AccountSetting.id == 1).is_demo:
        raise DemoRefused("This database holds customers and was not made by `demo`; "
                          "point PORTAL_DATABASE_URL at another database for the demo.")
    index_progress = (lambda done, total: progress("search index", done, total)) if progress else None
    with search_index.suspended(database.obj, index_progress):
        return _fill(customers, actor=actor, progress=progress)


def _fill(customers: int, *, actor: str, progress: SeedProgress | None) -> int:
    with write():
        for model in reversed(ALL_MODELS):
            model.delete().execute()
    get_settings()
    for key, value in (("credential_create_email", "on"), ("password_reset_email", "on"),
                       ("sender", "Acme Billing <billing@acme.example>"), ("portal_url", "http://127.0.0.1:8080")):
        update_setting(key, value, actor=actor)
    AccountSetting.update(is_demo=True).where(AccountSetting.id == 1).execute()
    password_hash = hash_password(DEMO_PASSWORD)
    rng = random.Random(2026)
    now = clock.now()
    rows = list(_FIXED)
    for i in range(max(0, customers - len(_FIXED))):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        company = rng.choice(_COMPANY)
        domain = company.lower().replace(" ", "") + ".example"
        email = f"{first.lower()}.{last.lower().replace(' ', '')}{i}@{domain}"
        if i % 7 == 0:
            email += f"; accounts@{domain}"
        roll = rng.random()
        username = f"{first.lower()}{i}" if roll < 0.66 else None
        rows.append((f"{first} {last}", company, email, username, roll < 0.33))
    with write():
        for batch_start in range(0, len(rows), 500):
            batch = rows[batch_start:batch_start + 500]
            created = now - timedelta(days=30)
            Customer.insert_many([
                dict(reference=f"C{batch_start + i + 1:06d}", name=n, company=c, primary_email=e,
                     created_at=created, updated_at=created)
                for i, (n, c, e, _, _) in enumerate(batch)
            ]).execute()
            if progress and (batch_start // 500) % 20 == 0:
                progress("customers", batch_start + len(batch), len(rows))
        ids = {c.reference: c.id for c in Customer.select(Customer.id, Customer.reference)}
        logins = []
        for i, (_, _, _, username, active) in enumerate(rows):
            if username:
                logins.append(dict(
                    customer=ids[f"C{i + 1:06d}"], username=username, username_key=username_key(username),
                    password_hash=password_hash if active else None,
                    password_set_at=now - timedelta(days=7) if active else None, created_at=now - timedelta(days=10),
                ))
        for batch_start in range(0, len(logins), 500):
            PortalLogin.insert_many(logins[batch_start:batch_start + 500]).execute()
        activity.record(None, actor, "demo data created", f"{len(rows)} customers")
    if progress:
        progress("customers", len(rows), len(rows))
    return len(rows)





# Emails for the Outbox screenshots and tests: (reference, outcome, error, refused addresses).
_DEMO_EMAILS = [
    ("C000001", "sent", None, ()),
    ("C000006", "sent", None, ("dmr@unix.example",)),
    ("C000003", "failed", "550 5.1.1 <alan@bletchley.example>: mailbox unavailable", ()),
    ("C000002", "sending", None, ()),
    ("C000007", "queued", None, ()),
]


def seed_emails(*, actor: str = "demo") -> list[int]:
    """Queue the demo customers' portal emails and give them the outcomes a mailer would.

    Each email is queued through the PORTAL send action; then its row is moved on as the
    mailer moves it (claimed: sending; delivered: sent, link redacted; given up: failed),
    minutes apart, so the Outbox shows every status. Returns the outbox ids in order.
    """

    now = clock.now()
    ids = []
    for minutes, (reference, outcome, error, refused) in enumerate(_DEMO_EMAILS):
        queued = send_portal_email(reference, actor=actor)
        created = now - timedelta(minutes=10 * (len(_DEMO_EMAILS) - minutes))
        changes: dict[str, object] = dict(created_at=created, next_attempt_at=created)
        if outcome == OutboxStatus.sending.value:
            changes.update(status=outcome, attempts=1, claimed_by="mailer-demo", claimed_at=now)
        elif outcome == OutboxStatus.sent.value:
            changes.update(status=outcome, attempts=1, sent_at=created + timedelta(seconds=3),
                           next_attempt_at=None,
                           refused_addresses=json.dumps(list(refused)))
        elif outcome == OutboxStatus.failed.value:
            changes.update(status=outcome, attempts=5, last_error=error, next_attempt_at=None)
        with write():
            OutboxEmail.update(**changes).where(OutboxEmail.id == queued.outbox_id).execute()
            # The link was made with its email: moved back with it, it expires when the email says.
            link = PortalLink.get_by_id(OutboxEmail.get_by_id(queued.outbox_id).link_id)
            moved_by = now - created
            PortalLink.update(created_at=link.created_at - moved_by, expires_at=link.expires_at - moved_by).where(
                PortalLink.id == link.id).execute()
            OutboxEmail.update(link_expires_at=link.expires_at - moved_by).where(
                OutboxEmail.id == queued.outbox_id).execute()
        ids.append(queued.outbox_id)
    return ids
