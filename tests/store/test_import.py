"""Customer import (store/importer.py): all or nothing, every refused row by line and reason,
on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest

from store.customers import add_customer, get_customer
from store.search import find_customers
from store.errors import InvalidInput
from store.importer import import_customers, read_customer_csv
from store.settings import update_setting
from store.bulk_values import RefusedRow

from .conftest import AGENT, column, count

GOOD = (
    "reference,name,company,primary email\n"
    "R-1,Ada Lovelace,Analytical Engines,ada@engines.example\n"
    ",Grace Hopper,,grace@navy.example; admiral@navy.example\n"
    "R-3,\"Zoë, Countess\",\"Quotes \"\"Inc\"\"\",zoe@example.com\n"
)


def rows_of(text: str, *, bom: bool = False):
    return read_customer_csv(("\ufeff" if bom else "").encode() + text.encode())


def test_a_good_file_imports_every_row_with_its_event(store_db):
    report = import_customers(rows_of(GOOD), actor=AGENT)
    assert (report.rows, report.imported, report.refused, report.dry_run) == (3, 3, (), False)
    assert count("customer") == 3
    assert get_customer("R-3").name == "Zoë, Countess"
    assert get_customer("R-3").company == 'Quotes "Inc"'
    # The empty reference is generated as add_customer generates it.
    generated = [r for r in column("customer", "reference") if r not in ("R-1", "R-3")]
    assert len(generated) == 1 and generated[0].startswith("C0")
    assert get_customer(generated[0]).addresses == ("grace@navy.example", "admiral@navy.example")
    assert count("activity_event", "action = ?", ("customer created",)) == 3
    # Credential Create is off (a new account's default): no email, and the event says why.
    assert count("outbox_email") == 0
    assert count("activity_event", "action = ?", ("email not sent",)) == 3


def test_with_credential_create_on_each_imported_customer_is_sent_it(store_db):
    update_setting("credential_create_email", "on", actor=AGENT)
    import_customers(rows_of(GOOD + "R-4,No Address,,\n"), actor=AGENT)
    assert count("outbox_email", "kind = ?", ("credential_create",)) == 3
    assert count("activity_event", "action = ? AND detail LIKE ?", ("email not sent", "%empty%")) == 1


def test_the_search_index_finds_imported_customers(store_db):
    import_customers(rows_of(GOOD), actor=AGENT)
    assert [c.reference for c in find_customers("zoe").customers] == ["R-3"]
    assert [c.name for c in find_customers("admiral@navy").customers] == ["Grace Hopper"]
    assert [c.reference for c in find_customers("R-1").customers] == ["R-1"]


def test_a_file_with_refused_rows_imports_nothing_and_says_each_line_and_why(store_db):
    text = (GOOD
            + "R-5,,No Name Inc,x@example.com\n"          # line 5: no name
            + "R 6,Bad Reference,,y@example.com\n"        # line 6: a space in the reference
            + "R-7,Too,Many,cells,here\n"                 # line 7
            + "R-8,Line\u2028Break,,z@example.com\n")      # line 8: an invisible line separator
    report = import_customers(rows_of(text), actor=AGENT)
    assert report.imported == 0 and report.rows == 7
    assert [r.line for r in report.refused] == [5, 6, 7, 8]
    reasons = [r.reason for r in report.refused]
    assert reasons[0] == "Enter the customer name."
    assert "reference" in reasons[1]
    assert reasons[2] == "The row has 5 cells; the header has 4."
    assert "line breaks or control characters" in reasons[3]
    assert count("customer") == 0 and count("activity_event") == 0


def test_skip_refused_imports_the_rest_and_reports_the_refused(store_db):
    report = import_customers(rows_of(GOOD + ",,,a@example.com\n"), actor=AGENT, skip_refused=True)
    assert report.imported == 3
    assert report.refused == (RefusedRow(line=5, reason="Enter the customer name."),)
    assert count("customer") == 3


def test_a_dry_run_writes_nothing(store_db):
    report = import_customers(rows_of(GOOD), actor=AGENT, dry_run=True)
    assert (report.imported, report.dry_run) == (3, True)
    assert count("customer") == 0 and count("activity_event") == 0


def test_duplicate_references_in_the_file_and_in_the_database_are_refused(store_db):
    add_customer(name="Already Here", primary_email="here@example.com", reference="OLD-1", actor=AGENT)
    text = ("name,reference,primary_email\n"
            "First,D-1,a@example.com\n"
            "Second,d-1,b@example.com\n"       # the same reference, another case
            "Third,old-1,c@example.com\n")     # taken in the database
    report = import_customers(rows_of(text), actor=AGENT)
    assert report.refused == (
        RefusedRow(line=3, reason="The reference 'd-1' is already on line 2."),
        RefusedRow(line=4, reason="The reference 'old-1' is already used by another customer."),
    )
    assert count("customer") == 1


def test_a_bom_and_windows_line_ends_are_read(store_db):
    rows = rows_of(GOOD.replace("\n", "\r\n"), bom=True)
    assert [r.line for r in rows] == [2, 3, 4]
    assert import_customers(rows, actor=AGENT).imported == 3
    assert get_customer("R-1").name == "Ada Lovelace"


def test_line_numbers_count_quoted_line_breaks_and_skip_blank_lines(store_db):
    text = "name,primary email\n\"Two\nLines\",a@example.com\n\n,b@example.com\n"
    report = import_customers(rows_of(text), actor=AGENT)
    assert report.refused == (
        RefusedRow(line=2, reason="The customer name can't contain line breaks or control characters."),
        RefusedRow(line=5, reason="Enter the customer name."),
    )


@pytest.mark.parametrize("header", ["name,company\n", "ref,name,email,phone\n", "name,name,email\n", ""])
def test_a_wrong_header_says_which_columns_it_expects(store_db, header):
    with pytest.raises(InvalidInput, match="reference \\(optional\\), name, company \\(optional\\), primary email"):
        rows_of(header + "Ada,ada@example.com\n")


def test_a_file_that_is_not_utf8_is_refused_with_its_line(store_db):
    with pytest.raises(InvalidInput, match="not UTF-8 text \\(line 3\\)"):
        read_customer_csv("name,email\nAda,a@x.com\nZoë,z@x.com\n".encode("latin-1"))


def test_an_unusable_address_is_imported_unless_strict(store_db):
    text = "name,primary email\nAda,not-an-address\n"
    assert import_customers(rows_of(text), actor=AGENT, strict_email=True).refused[0].line == 2
    assert count("customer") == 0
    assert import_customers(rows_of(text), actor=AGENT).imported == 1
    reference = column("customer", "reference")[0]
    assert get_customer(reference).address_problem


def test_batches_are_one_transaction_and_progress_is_reported(store_db):
    text = "name,primary email\n" + "".join(f"Customer {i},c{i}@example.com\n" for i in range(7))
    seen: list[tuple[str, int, int]] = []
    report = import_customers(rows_of(text), actor=AGENT, batch_size=3,
                              progress=lambda stage, done, total: seen.append((stage, done, total)))
    assert report.imported == 7 and count("customer") == 7
    assert [s for s in seen if s[0] == "importing"] == [("importing", 3, 7), ("importing", 6, 7), ("importing", 7, 7)]
    assert len(set(column("customer", "reference"))) == 7


def test_a_file_csv_cannot_read_is_refused_with_the_line(store_db):
    with pytest.raises(InvalidInput, match="can't be read as CSV from line 3"):
        rows_of("name,primary email\nAda,a@x.com\nZoe," + "x" * 200_000 + "\n")
