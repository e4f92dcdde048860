"""The Forgot Password and Create Credential prompts of the login page."""
from __future__ import annotations

import asyncio
import functools
import logging
from typing import Awaitable, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from store.errors import TooManyAttempts
from store.prompts import count_prompt, identifier_problem, request_password_reset

from .forms import FormError, read_form
from .logs import redact
from .pages import client_ip, csrf_refused, in_thread, page, then_release, too_many
from .security import csrf_ok

log = logging.getLogger("portal")

# The two prompts of the login page: path -> (name as the source document says it, what it is for).
PROMPTS = {
    "forgot-password": ("Forgot Password", "Enter your username or the email address we have on file. "
                        "We will email you a link to choose a new password."),
    "create-credential": ("Create Credential", "Enter the email address we have on file (or your username, "
                          "if you have one). We will email you a link to set up your username and password."),
}
PROMPT_SENT = ("If that matches a customer account with portal access by email, we have sent an email "
               "to the account's email addresses. It can take a few minutes to arrive; its link works once.")


def prompt_view(slug: str) -> Callable[[Request], Awaitable[Response]]:
    """GET and POST of one prompt."""
    name, intro = PROMPTS[slug]

    def prompt_page(request: Request, *, status: int = 200, error: str | None = None,
                    identifier: str = "") -> Response:
        """The prompt's form, with an error and what was typed kept."""
        return page(request, "prompt.html", status=status, title=name, intro=intro, action=f"/{slug}",
                    error=error, identifier=identifier)

    async def view(request: Request) -> Response:
        """GET shows the form; POST checks it, counts it, and answers the same in the same time."""
        if request.method != "POST":  # GET, and HEAD (never the POST handler)
            return prompt_page(request)
        try:
            form = await read_form(request)
        except FormError as error:
            return prompt_page(request, status=error.status, error=error.message)
        if not csrf_ok(request, form):
            return csrf_refused(request, f"/{slug}")
        identifier = form.get("identifier", "").strip()
        problem = identifier_problem(identifier)  # the store's rule, said on the form
        if problem is not None:
            return prompt_page(request, status=400, error=problem)
        try:
            await in_thread(count_prompt, identifier, client_ip(request), request.app.state.limits.prompts)
        except TooManyAttempts as error:
            return too_many(request, error, f"/{slug}")
        await answer_in_fixed_time(request, functools.partial(request_password_reset, identifier, prompt=name))
        return page(request, "prompt_sent.html", title=name, message=PROMPT_SENT)

    return view


async def answer_in_fixed_time(request: Request, work: Callable[[], None]) -> None:
    """Run the prompt's work in a thread and return after the same fixed time whether it
    found a customer or not: waiting at most that long, never less. Work still running
    at the deadline finishes in the background (the app waits for it at shutdown).

    Work that failed by the deadline (the database is down) raises here, so the customer
    gets the error page instead of a false "sent"; a failure says nothing about a match,
    because matched and unmatched requests both read the database."""
    seconds: float = request.app.state.prompt_seconds
    tasks: set[asyncio.Future] = request.app.state.prompt_tasks
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    task = asyncio.ensure_future(run_in_threadpool(then_release, work))
    tasks.add(task)
    task.add_done_callback(tasks.discard)
    await asyncio.wait({task}, timeout=seconds)
    remaining = deadline - loop.time()
    if remaining > 0:
        await asyncio.sleep(remaining)
    if task.done():
        task.result()
    else:
        task.add_done_callback(_log_late_failure)


def _log_late_failure(task: asyncio.Future) -> None:
    """Nobody waits for work that outlived its request: say in the log when it failed."""
    if not task.cancelled() and task.exception() is not None:
        error = task.exception()
        log.error("A prompt's password reset request failed: %s: %s", type(error).__name__,
                  redact(str(error)).splitlines()[0] if str(error) else "")
