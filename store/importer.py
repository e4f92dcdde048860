"""Customer import from a CSV file: all or nothing, every refused row reported.

The file: UTF-8 (with or without a BOM), a header row naming the columns ``reference``
(optional: empty cells get a generated reference, as ``add_customer`` gives one), ``name``,
``company`` (optional) and ``primary email``, in any order. ``read_customer_csv`` refuses a
file that isn't UTF-8 or whose header is wrong (InvalidInput, saying which columns it
expects); ``import_customers`` then checks every row with ``add_customer``'s own rules
(store.customers.check_new_customer) before writing anything. Refused, each with its line
number and reason: a row the rules refuse, a row with too many or too few cells, a reference
already used in the database or on an earlier line (whatever the case, as lookups are).

The rule: when any row is refused, nothing is imported, unless ``skip_refused``, which
imports the other rows and reports the refused ones. The write is one transaction (so a
failure half-way leaves nothing), made of savepoints of BATCH customers inserted a few
statements at a time, as bulk sends write. Each customer gets what ``add_customer`` gives a
new one: the "customer created" event, and, with Credential Create switched on (S4), that
email, queued at the bulk priority so hand-sent emails go first; otherwise the "email not
sent" event saying why.
"""
from __future__ import annotations

import csv
import io
import re
import uuid
from dataclasses import dataclass
from typing import Callable, Sequence

from peewee import Case, IntegrityError, fn

from . import activity, clock, search_index
from .addresses import parse_primary_email
from .bulk import BATCH, _insert, _queue_batch
from .customers import check_new_customer
from .db import database, write
from .errors import InvalidInput, PortalError
from .models import ActivityEvent, Customer
from .settings import get_settings
from .bulk_values import BulkSkip, ImportReport, RefusedRow
from .values import EmailKind

# (stage, done, total), as cli/progress.py's stage_progress() shows it.
StageProgress = Callable[[str, int, int], None]

# Column -> the header names accepted for it (compared lower-case, spaces for _ and -).
COLUMNS: dict[str, tuple[str, ...]] = {
    "reference": ("reference", "customer reference", "ref"),
    "name": ("name", "customer name"),
    "company": ("company",),
    "primary_email": ("primary email", "primary email address", "email"),
}
REQUIRED = ("name", "primary_email")
EXPECTED = "reference (optional), name, company (optional), primary email"
_SPACES = re.compile(r"[\s_-]+")


@dataclass(frozen=True)
class CsvRow:
    """One data row of the file: its first line number and its cells by column."""

    line: int
    name: str = ""
    primary_email: str = ""
    company: str = ""
    reference: str = ""
    # Why the row can't be read as a customer at all (the wrong number of cells), else None.
    problem: str | None = None


def _column_of(header: str) -> str | None:
    key = _SPACES.sub(" ", header.strip().lower()).strip()
    return next((column for column, names in COLUMNS.items() if key in names), None)


def read_customer_csv(data: bytes) -> list[CsvRow]:
    """The rows of a customer CSV file; InvalidInput for a file that isn't UTF-8 or whose
    header doesn't name the expected columns."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise InvalidInput(f"The file is not UTF-8 text (line {line}); save it as UTF-8 CSV.") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if not header or not any(cell.strip() for cell in header):
        raise InvalidInput(f"The file is empty; its first line must be a header naming the columns {EXPECTED}.")
    columns = [_column_of(cell) for cell in header]
    unknown = [cell for cell, column in zip(header, columns) if column is None]
    doubled = sorted({c for c in columns if c is not None and columns.count(c) > 1})
    missing = [c for c in REQUIRED if c not in columns]
    if unknown or doubled or missing:
        found = ", ".join(repr(cell[:40]) for cell in header)
        raise InvalidInput(f"The header must name the columns {EXPECTED}; found {found}.")
    rows: list[CsvRow] = []
    previous_end = reader.line_num
    while True:
        try:
            cells = next(reader, None)
        except csv.Error as error:  # a cell longer than csv's limit (128 KiB), an unclosed quote at the end
            raise InvalidInput(f"The file can't be read as CSV from line {previous_end + 1}: {error}.") from None
        if cells is None:
            break
        line, previous_end = previous_end + 1, reader.line_num
        if not cells or (len(cells) == 1 and not cells[0].strip()):
            continue  # a blank line
        if len(cells) != len(columns):
            rows.append(CsvRow(line=line, problem=f"has {len(cells)} cells; the header has {len(columns)}."))
            continue
        rows.append(CsvRow(line=line, **dict(zip(columns, cells))))
    return rows


@dataclass(frozen=True)
class _Checked:
    line: int
    name: str
    company: str
    reference: str | None
    primary_email: str


def _check(rows: Sequence[CsvRow], *, strict_email: bool,
           progress: StageProgress | None) -> tuple[list[_Checked], list[RefusedRow]]:
    """Every row through add_customer's rules; references against earlier lines and the database."""
    good: list[_Checked] = []
    refused: list[RefusedRow] = []
    first_line: dict[str, int] = {}
    for index, row in enumerate(rows):
        if progress is not None and index % BATCH == 0:
            progress("checking", index, len(rows))
        if row.problem is not None:
            refused.append(RefusedRow(line=row.line, reason=f"The row {row.problem}"))
            continue
        try:
            name, company, reference, email = check_new_customer(
                name=row.name, company=row.company, reference=row.reference, primary_email=row.primary_email,
                strict_email=strict_email)
        except PortalError as error:
            refused.append(RefusedRow(line=row.line, reason=error.message))
            continue
        if reference is not None:
            key = reference.lower()
            if key in first_line:
                refused.append(RefusedRow(line=row.line,
                                          reason=f"The reference {reference!r} is already on line {first_line[key]}."))
                continue
            first_line[key] = row.line
        good.append(_Checked(row.line, name, company, reference, email))
    keys = list(first_line)
    taken: set[str] = set()
    for start in range(0, len(keys), 1000):
        chunk = keys[start:start + 1000]
        taken.update(row[0] for row in Customer.select(fn.LOWER(Customer.reference))
                     .where(fn.LOWER(Customer.reference).in_(chunk)).tuples())
    if taken:
        kept = []
        for row in good:
            if row.reference is not None and row.reference.lower() in taken:
                refused.append(RefusedRow(line=row.line,
                                          reason=f"The reference {row.reference!r} is already used by another customer."))
            else:
                kept.append(row)
        good = kept
    if progress is not None:
        progress("checking", len(rows), len(rows))
    refused.sort(key=lambda r: r.line)
    return good, refused


def _write_batch(batch: list[_Checked], *, actor: str, credential_create: bool) -> list[int]:
    """Insert one batch of customers with their events and Credential Create emails; returns
    the customers' ids."""
    now = clock.now()
    stored = [row.reference or f"pending-{uuid.uuid4().hex}" for row in batch]
    _insert(Customer, [{"reference": ref, "name": row.name, "company": row.company,
                        "primary_email": row.primary_email, "version": 1, "created_at": now, "updated_at": now}
                       for ref, row in zip(stored, batch)])
    ids = dict(Customer.select(Customer.reference, Customer.id).where(Customer.reference.in_(stored)).tuples())
    generated = {ids[ref]: f"C{ids[ref]:06d}" for ref, row in zip(stored, batch) if row.reference is None}
    if generated:
        # As add_customer: an empty reference becomes C and the customer's id.
        Customer.update(reference=Case(Customer.id, list(generated.items()))).where(
            Customer.id.in_(list(generated))).execute()
    events: list[dict] = []
    to_queue: list[int] = []
    for ref, row in zip(stored, batch):
        customer_id = ids[ref]
        events.append({"customer": customer_id, "at": now, "actor": actor, "action": "customer created",
                       "detail": (f"{row.name} <{row.primary_email}>" if row.primary_email else row.name)
                       + " (import)"})
        reason = None
        if not credential_create:
            reason = "Customer Credential Create emails are switched off in Settings."
        else:
            reason = parse_primary_email(row.primary_email).problem
        if reason is None:
            to_queue.append(customer_id)
        else:
            events.append({"customer": customer_id, "at": now, "actor": activity.ACTOR_SYSTEM,
                           "action": "email not sent",
                           "detail": f"Customer Credential Create for a new customer: {reason}"})
    _insert(ActivityEvent, events)
    if to_queue:
        _queue_batch(to_queue, recent_hours=0, actor=activity.ACTOR_SYSTEM, dry_run=False,
                     queued={kind: 0 for kind in EmailKind}, skipped={reason: 0 for reason in BulkSkip},
                     why="new customer, imported; Customer Credential Create is on")
    return list(ids.values())


def import_customers(rows: Sequence[CsvRow], *, actor: str, dry_run: bool = False, skip_refused: bool = False,
                     strict_email: bool = False, progress: StageProgress | None = None,
                     batch_size: int = BATCH) -> ImportReport:
    """Check every row, then import them all in one transaction (see the module's docstring).
    With refused rows and not ``skip_refused``, nothing is written. ``dry_run`` checks and
    counts, writing nothing. ``strict_email`` also refuses a Primary Email Address that holds
    an invalid address (as the console's form does); by default it is imported as the billing
    system has it, and the email actions then say why they are off."""
    good, refused = _check(rows, strict_email=strict_email, progress=progress)
    if refused and not skip_refused:
        return ImportReport(rows=len(rows), imported=0, refused=tuple(refused), dry_run=dry_run)
    if dry_run or not good:
        return ImportReport(rows=len(rows), imported=len(good), refused=tuple(refused), dry_run=dry_run)
    credential_create = get_settings().credential_create_email
    try:
        with write():
            for start in range(0, len(good), batch_size):
                # Each batch's search index rows are made together at its end (search_index.batch).
                with search_index.batch(database.obj) as written:
                    written.extend(_write_batch(good[start:start + batch_size], actor=actor,
                                                credential_create=credential_create))
                if progress is not None:
                    progress("importing", min(start + batch_size, len(good)), len(good))
    except IntegrityError:
        # Checked above; a reference taken since, or a generated C000123 a line of the file also holds.
        raise InvalidInput("A reference of the file was taken while it was imported (or equals a generated "
                           "one, C and the customer number); nothing was imported. Run the import again.") from None
    return ImportReport(rows=len(rows), imported=len(good), refused=tuple(refused), dry_run=False)
