"""The portal's /metrics: a 404 on the customers' host by default, the Prometheus text when
PORTAL_METRICS_ENABLED mounts it; sign-ins counted by result on the app's own registry."""
from __future__ import annotations

from datetime import timedelta

from prometheus_client.parser import text_string_to_metric_families

from portal.app import create_app
from portal.ratelimit import Limit, Limits, SignInLimits

from .conftest import GOOD_PASSWORD, SECRET, sign_in
from .test_login import _activate


def sign_ins(text: str) -> dict[str, float]:
    return {s.labels["result"]: s.value for family in text_string_to_metric_families(text)
            for s in family.samples if s.name == "portal_sign_ins_total"}


def test_metrics_are_a_404_on_the_portal_by_default(client):
    answer = client.get("/metrics")
    assert answer.status_code == 404
    assert "portal_sign_ins" not in answer.text


def test_enabled_the_portal_serves_sign_ins_by_result(make_client, customer):
    _activate(customer)
    limits = Limits(sign_in=SignInLimits(per_address=Limit(3, timedelta(minutes=10))))
    client = make_client(app=create_app(SECRET, limits=limits, prompt_seconds=0.02, metrics_route=True))
    assert sign_ins(client.get("/metrics").text) == {"signed_in": 0, "wrong": 0, "limited": 0}
    assert sign_in(client, "ada", GOOD_PASSWORD).status_code == 303
    for username in ("ada", "nobody", "someone"):
        assert sign_in(client, username, "not the password at all").status_code == 400
    assert sign_in(client, "ada", GOOD_PASSWORD).status_code == 429  # the address's 4th wrong try
    answer = client.get("/metrics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    assert sign_ins(answer.text) == {"signed_in": 1, "wrong": 3, "limited": 1}
    # Another app (another process, another test) counts on its own registry.
    assert sign_ins(create_app(SECRET).state.metrics.text().decode()) == {"signed_in": 0, "wrong": 0, "limited": 0}


def test_serve_with_a_metrics_port_shows_them_there_and_never_on_the_customers_port(tmp_path):
    """`portal-console serve --metrics-port N`, a real process: the customers' port answers
    /metrics with a 404, the metrics port with the text."""
    import subprocess
    import sys
    import time

    import httpx

    from tests.children import child_env
    from tests.net import free_port

    port, metrics_port = free_port(), free_port()
    env = child_env(PORTAL_DATABASE_URL=f"sqlite:///{tmp_path / 'portal.db'}")
    with (tmp_path / "server.log").open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "cli", "serve", "--port", str(port),
                                    "--metrics-port", str(metrics_port)], env=env, cwd=tmp_path,
                                   stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                customers = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=1.0)
                metrics = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=1.0)
                break
            except httpx.TransportError:
                assert process.poll() is None, (tmp_path / "server.log").read_text()
                assert time.monotonic() < deadline, (tmp_path / "server.log").read_text()
                time.sleep(0.1)
        assert customers.status_code == 404 and "portal_sign_ins" not in customers.text
        assert metrics.status_code == 200
        assert sign_ins(metrics.text) == {"signed_in": 0, "wrong": 0, "limited": 0}
    finally:
        process.terminate()
        process.wait(timeout=15)
