"""The portal's Prometheus metrics: sign-ins by result (docs/operations.md).

Each app has its own registry (never prometheus_client's global default), so two apps in
one process, or two tests, never share counts. `portal-console serve --metrics-port N`
serves it on a port of its own; with PORTAL_METRICS_ENABLED the app also answers /metrics
on its own port. Without either, /metrics is an ordinary 404.
"""
from __future__ import annotations

from enum import Enum

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from starlette.requests import Request
from starlette.responses import Response


class SignInResult(str, Enum):
    signed_in = "signed_in"
    # A wrong username or password (the page never says which).
    wrong = "wrong"
    # Refused before the password was checked: the limits on the username or the address.
    limited = "limited"


class PortalMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.sign_ins = Counter("portal_sign_ins", "Sign-ins on the portal's login page, by result.",
                                ["result"], registry=self.registry)
        for result in SignInResult:
            self.sign_ins.labels(result=result.value)

    def signed_in(self, result: SignInResult) -> None:
        self.sign_ins.labels(result=result.value).inc()

    def text(self) -> bytes:
        return generate_latest(self.registry)


async def metrics_page(request: Request) -> Response:
    """GET /metrics, mounted only with PORTAL_METRICS_ENABLED."""
    return Response(request.app.state.metrics.text(), media_type=CONTENT_TYPE_LATEST)
