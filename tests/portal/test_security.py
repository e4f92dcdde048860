"""Security headers on every response, plain pages without inline code, token-free logs, keys."""
from __future__ import annotations

import logging

import pytest
from peewee import SqliteDatabase

from portal.app import create_app
from portal.logs import RedactTokens, log_config, redact
from store import db

from .conftest import csrf_of, sign_in, text_of

EXPECTED = {
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
}


def assert_secure_headers(response) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (response.request.url, name)
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp


class TestHeaders:
    @pytest.mark.parametrize("method, path", [
        ("GET", "/"), ("GET", "/forgot-password"), ("GET", "/create-credential"),
        ("GET", "/setup/" + "A" * 43), ("GET", "/reset/bad"), ("GET", "/setup"), ("GET", "/no-such-page"),
        ("POST", "/login"), ("DELETE", "/"), ("GET", "/static/portal.css"),
    ])
    def test_every_response_carries_the_security_headers(self, client, store_db, method, path):
        assert_secure_headers(client.request(method, path, follow_redirects=False))

    def test_pages_are_not_cached_but_the_stylesheet_may_be(self, client, store_db):
        assert client.get("/").headers["cache-control"] == "no-store"
        assert client.get("/setup/x", follow_redirects=False).headers["cache-control"] == "no-store"
        assert "no-store" not in client.get("/static/portal.css").headers.get("cache-control", "")

    def test_a_rate_limited_answer_carries_the_headers(self, client, store_db):
        for _ in range(6):
            answer = sign_in(client, "someone", "a-wrong-password")
        assert answer.status_code == 429
        assert_secure_headers(answer)

    def test_https_adds_strict_transport_security(self, make_client):
        assert "max-age" in make_client(https=True).get("/").headers["strict-transport-security"]

    @pytest.mark.parametrize("path", ["/", "/forgot-password", "/create-credential"])
    def test_pages_have_no_inline_script_or_style(self, client, store_db, path):
        """The CSP forbids inline code; the pages must not need it."""
        text = client.get(path).text.lower()
        assert "<script" not in text and "style=" not in text and "<style" not in text and " on" + "click" not in text

    def test_a_missing_page_is_a_plain_404(self, client, store_db):
        answer = client.get("/nothing/here")
        assert answer.status_code == 404 and "There is no page at this address." in text_of(answer.text)


class TestDatabaseDown:
    def test_an_unreachable_database_gets_a_clear_503_page(self, client, store_db):
        """Never a bare 500: the customer reads what happened and that nothing changed."""
        db.database.initialize(SqliteDatabase("/proc/no-such-dir/portal.db"))
        answer = client.get("/setup/" + "A" * 43, follow_redirects=False)
        assert answer.status_code == 503
        assert "can't reach its database right now. Nothing was changed" in text_of(answer.text)
        assert_secure_headers(answer)

    @pytest.mark.parametrize("damage", ["header", "pages"])
    def test_a_corrupt_database_file_gets_the_503_page(self, client, store_db, tmp_path, damage):
        """A real portal database file, damaged on disk: SQLite says 'file is not a database'
        (its header) or 'database disk image is malformed' (its tables' pages); the customer
        reads the same page as for a database that is down, never a 500."""
        path = tmp_path / "damaged.db"
        real = db.open_database(f"sqlite:///{path}")
        db.database.initialize(real)
        db.migrate_schema()
        real.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        real.close()
        data = bytearray(path.read_bytes())
        if damage == "header":
            data[:16] = b"not a database!!"
        else:  # every page after the first (which holds the schema)
            data[4096:] = b"\xde\xad\xbe\xef" * ((len(data) - 4096) // 4)
        path.write_bytes(bytes(data))
        db.database.initialize(SqliteDatabase(str(path)))
        answer = client.get("/setup/" + "A" * 43, follow_redirects=False)
        assert answer.status_code == 503
        assert "can't reach its database right now. Nothing was changed" in text_of(answer.text)

    def test_a_prompt_with_the_database_down_does_not_claim_an_email_was_sent(self, client, store_db):
        page = client.get("/forgot-password")
        db.database.initialize(SqliteDatabase("/proc/no-such-dir/portal.db"))
        answer = client.post("/forgot-password", data={"csrf_token": csrf_of(page.text), "identifier": "ada"})
        assert answer.status_code == 503 and "we have sent" not in answer.text


class TestSecretKey:
    def test_without_a_secret_key_a_random_one_is_used_with_a_warning(self, caplog, store_db):
        with caplog.at_level(logging.WARNING, logger="portal"):
            create_app(None)
        assert ["PORTAL_SECRET_KEY is not set: using a random key, so portal sessions won't survive a restart."] == [
            r.getMessage() for r in caplog.records if r.name == "portal"]

    def test_with_a_secret_key_there_is_no_warning(self, caplog, store_db):
        with caplog.at_level(logging.WARNING, logger="portal"):
            create_app("a-configured-secret")
        assert not [r for r in caplog.records if r.name == "portal"]


class TestTokenFreeLogs:
    TOKEN = "q1Xk7b3Zr0VwYc9-Nf2Hs_ELtPa6UmJdGiRoK8yW4eT"

    def test_redact_hides_setup_and_reset_tokens(self):
        assert redact(f'"GET /setup/{self.TOKEN} HTTP/1.1"') == '"GET /setup/[redacted] HTTP/1.1"'
        assert redact(f"/reset/{self.TOKEN}?x=1") == "/reset/[redacted]?x=1"
        assert redact("/setup") == "/setup" and redact("/?note=link") == "/?note=link"

    def test_the_access_log_record_is_rewritten_before_any_handler(self):
        record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                                   ("127.0.0.1:5000", "GET", f"/setup/{self.TOKEN}", "1.1", 303), None)
        RedactTokens().filter(record)
        assert self.TOKEN not in record.getMessage() and "/setup/[redacted]" in record.getMessage()

    def test_every_log_handler_has_the_filter(self):
        config = log_config()
        assert all(h["filters"] == ["redact"] for h in config["handlers"].values())


class TestUnexpectedFailure:
    async def test_an_unexpected_error_gets_the_500_page_with_the_headers(self):
        """Whatever fails below the Guard, the customer reads a page, and the headers stay on."""
        from portal.pages import error_page
        from portal.security import Guard

        async def failing_app(scope, receive, send):
            raise RuntimeError("boom /setup/q1Xk7b3Zr0VwYc9-Nf2Hs_ELtPa6UmJdGiRoK8yW4eT")

        sent: list[dict] = []

        async def receive():
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message):
            sent.append(message)

        scope = {"type": "http", "method": "GET", "path": "/setup", "raw_path": b"/setup", "query_string": b"",
                 "headers": [], "scheme": "http", "server": ("testserver", 80), "client": ("127.0.0.1", 1),
                 "root_path": "", "http_version": "1.1", "app": None}
        await Guard(failing_app, error_page=error_page)(scope, receive, send)
        start = sent[0]
        headers = {k.decode(): v.decode() for k, v in start["headers"]}
        assert start["status"] == 500 and headers["x-frame-options"] == "DENY"
        body = b"".join(m.get("body", b"") for m in sent[1:]).decode()
        assert "Something went wrong on our side." in body and "boom" not in body
