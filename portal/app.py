"""The customer portal: a small Starlette app the emails' links open."""
from __future__ import annotations

import asyncio
import logging
import secrets
from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from . import account, links, pages, prompts
from .metrics import PortalMetrics, metrics_page
from .ratelimit import Limits
from .security import Guard
from .sessions import SESSION_SECONDS

log = logging.getLogger("portal")

# The prompts answer after this long whether or not anything matched.
PROMPT_SECONDS = 0.4
# Argon2 runs on at most this many threads at once (2 cores; more would only queue on the CPU).
HASH_THREADS = 4
SESSION_COOKIE = "portal_session"


@asynccontextmanager
async def _lifespan(app: Starlette) -> AsyncIterator[None]:
    app.state.hash_limiter = anyio.CapacityLimiter(HASH_THREADS)
    yield
    pending = set(app.state.prompt_tasks)
    if pending:  # emails a prompt asked for are queued before the process goes
        await asyncio.wait(pending, timeout=10)


def create_app(secret_key: str | None = None, *, https: bool = False, limits: Limits | None = None,
               prompt_seconds: float = PROMPT_SECONDS, metrics_route: bool = False) -> Starlette:
    """The portal app. ``secret_key`` signs sessions (PORTAL_SECRET_KEY); ``https`` marks the
    session cookie Secure (the account's portal URL is https). Its metrics are counted in
    ``app.state.metrics``; ``metrics_route`` (PORTAL_METRICS_ENABLED) also serves them at
    /metrics on the app's own port, which is otherwise a 404."""
    if not secret_key:
        secret_key = secrets.token_urlsafe(48)
        log.warning("PORTAL_SECRET_KEY is not set: using a random key, so portal sessions won't survive a restart.")
    routes = [
        Route("/", account.home, methods=["GET"]),
        Route("/login", account.login, methods=["POST"]),
        Route("/logout", account.logout, methods=["POST"]),
        Route("/setup", links.setup_form, methods=["GET", "POST"]),
        Route("/reset", links.reset_form, methods=["GET", "POST"]),
        Route("/setup/{token:path}", links.open_setup_link, methods=["GET"]),
        Route("/reset/{token:path}", links.open_reset_link, methods=["GET"]),
        *(Route(f"/{slug}", prompts.prompt_view(slug), methods=["GET", "POST"]) for slug in prompts.PROMPTS),
        Mount("/static", StaticFiles(directory=Path(__file__).with_name("static")), name="static"),
    ]
    if metrics_route:
        routes.append(Route("/metrics", metrics_page, methods=["GET"]))
    middleware = [
        Middleware(Guard, https=https, error_page=pages.error_page),
        Middleware(SessionMiddleware, secret_key=secret_key, session_cookie=SESSION_COOKIE,
                   max_age=SESSION_SECONDS, same_site="lax", https_only=https),
    ]
    app = Starlette(routes=routes, middleware=middleware, lifespan=_lifespan,
                    exception_handlers={HTTPException: pages.http_error})
    app.state.limits = limits or Limits()
    app.state.prompt_seconds = prompt_seconds
    app.state.prompt_tasks = set()
    app.state.metrics = PortalMetrics()
    return app
