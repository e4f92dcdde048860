"""`portal-console serve` as a real process on a loopback port, for the real-server tests."""
from __future__ import annotations

import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import httpx

from tests.children import child_env
from tests.net import free_port


@dataclass
class LiveServer:
    """A running `portal-console serve` process and where its log goes."""

    base_url: str
    database_url: str
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        """Everything the server logged so far."""
        return self.log_path.read_text(errors="replace")


def start_server(database_url: str, folder: Path, port: int, *, timeout: float = 20.0) -> LiveServer:
    """Start the portal on 127.0.0.1:port against the database; wait until it answers."""
    env = child_env(PORTAL_DATABASE_URL=database_url, PORTAL_MAILDIR=str(folder / "maildir"), PYTHONUNBUFFERED="1")
    log_path = folder / "server.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env, cwd=folder, stdout=log, stderr=subprocess.STDOUT,
        )
    server = LiveServer(f"http://127.0.0.1:{port}", database_url, process, log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"portal-console serve exited with {process.returncode}:\n{server.log()}")
        try:
            httpx.get(server.base_url + "/static/portal.css", timeout=1.0)
            return server
        except httpx.TransportError:
            time.sleep(0.1)
    stop_server(server)
    raise RuntimeError(f"portal-console serve did not answer within {timeout} s:\n{server.log()}")


def stop_server(server: LiveServer) -> None:
    """Stop the process this test started (SIGTERM, then SIGKILL if it hangs)."""
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(timeout=5)


@contextmanager
def portal_with_emails_on(folder: Path, agent: str) -> Iterator[LiveServer]:
    """A served portal on a new SQLite file in ``folder`` that this test process also writes,
    with the account's portal URL its address and both Email Notifications switched on."""
    from store import db
    from store.settings import update_setting

    url = f"sqlite:///{folder / 'portal.db'}"
    port = free_port()
    db.init(url)
    for key, value in (("portal_url", f"http://127.0.0.1:{port}"), ("credential_create_email", "on"),
                       ("password_reset_email", "on")):
        update_setting(key, value, actor=agent)
    server = start_server(url, folder, port)
    try:
        yield server
    finally:
        stop_server(server)
        db.close()
