"""`portal-console customer import FILE.csv`, run as a script runs it: exit 0 all imported,
1 rows (or the file) refused and nothing imported, 2 usage."""
from __future__ import annotations

import json


def _write(tmp_path, text: str, name: str = "customers.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8-sig"))
    return str(path)


def _references(cli, text: str) -> list[str]:
    found = cli("customer", "find", text, "--json")
    assert found.returncode == 0, found.stderr
    return [c["reference"] for c in json.loads(found.stdout)]


def test_a_good_file_imports_every_row_and_exits_0(cli, tmp_path):
    path = _write(tmp_path, "reference,name,company,primary email\n"
                            "IMP-1,Ada Lovelace,Engines,ada@example.com\n"
                            "IMP-2,Charles Babbage,,charles@example.com\n")
    dry = cli("customer", "import", path, "--dry-run")
    assert (dry.returncode, dry.stdout.strip()) == (0, "2 rows: 2 would be imported (dry run)."), dry.stderr
    assert _references(cli, "lovelace") == []
    done = cli("customer", "import", path)
    assert (done.returncode, done.stdout.strip()) == (0, "2 rows: 2 imported."), done.stderr
    assert _references(cli, "lovelace") == ["IMP-1"]
    assert json.loads(cli("customer", "show", "IMP-2", "--json").stdout)["name"] == "Charles Babbage"


def test_refused_rows_are_reported_by_line_nothing_is_imported_and_it_exits_1(cli, tmp_path):
    path = _write(tmp_path, "name,primary email,reference\n"
                            "Ada Lovelace,ada@example.com,IMP-1\n"
                            ",nobody@example.com,IMP-2\n"
                            "Charles Babbage,charles@example.com,imp-1\n")
    result = cli("customer", "import", path)
    assert result.returncode == 1
    assert result.stdout.strip() == ("3 rows: 2 refused; nothing imported (all or nothing; "
                                     "--skip-refused imports the rest).")
    assert "line 3: Enter the customer name." in result.stderr
    assert "line 4: The reference 'imp-1' is already on line 2." in result.stderr
    assert _references(cli, "lovelace") == []
    as_json = cli("customer", "import", path, "--json", "--skip-refused")
    assert as_json.returncode == 1
    report = json.loads(as_json.stdout)
    assert (report["rows"], report["imported"], [r["line"] for r in report["refused"]]) == (3, 1, [3, 4])
    assert _references(cli, "lovelace") == ["IMP-1"]


def test_a_wrong_header_says_what_it_expects_and_exits_1(cli, tmp_path):
    result = cli("customer", "import", _write(tmp_path, "customer,mail\nAda,ada@example.com\n"))
    assert result.returncode == 1
    assert "reference (optional), name, company (optional), primary email" in result.stderr


def test_usage_errors_exit_2(cli, tmp_path):
    assert cli("customer", "import").returncode == 2
    missing = cli("customer", "import", str(tmp_path / "missing.csv"))
    assert missing.returncode == 2 and "can't read" in missing.stderr
