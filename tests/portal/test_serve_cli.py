"""`portal-console serve`'s command line: bad ports are usage errors, a busy port a clear exit."""
from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from tests.children import child_env


def _serve(tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = child_env(PORTAL_DATABASE_URL=f"sqlite:///{tmp_path / 'portal.db'}")
    return subprocess.run([sys.executable, "-m", "cli", "serve", *args], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=60)


@pytest.mark.parametrize("port", ["0", "65536", "http", "-1"])
def test_a_bad_port_is_a_usage_error(tmp_path, port):
    result = _serve(tmp_path, "--port", port)
    assert result.returncode == 2 and "a port is a number from 1 to 65535" in result.stderr


def test_a_port_in_use_stops_with_a_clear_line(tmp_path):
    """Another process holds the port: exit non-zero and say so, no traceback."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = _serve(tmp_path, "--port", str(taken.getsockname()[1]))
    output = result.stdout + result.stderr
    assert result.returncode != 0 and "address already in use" in output.lower()
    assert "Traceback" not in output
