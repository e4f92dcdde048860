"""Domain errors. Each has a title and a message a person can read as it is.

The console shows them in one error modal, the portal on the page, the CLI
on stderr: one path for every failure.
"""
from __future__ import annotations

import math
from datetime import timedelta


class PortalError(Exception):
    """Base of every domain error: a short title and a human sentence."""

    title = "Something went wrong"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        # The input the message belongs to (e.g. "username"), so a form can show it there.
        self.field = field


class InvalidInput(PortalError):
    title = "Invalid input"


class InvalidUsername(InvalidInput):
    title = "Invalid username"

    def __init__(self, message: str) -> None:
        super().__init__(message, field="username")


class UsernameTaken(PortalError):
    title = "Username taken"

    def __init__(self, message: str = "That username is already in use.") -> None:
        super().__init__(message, field="username")


class InvalidPrimaryEmail(InvalidInput):
    title = "Invalid Primary Email Address"

    def __init__(self, message: str) -> None:
        super().__init__(message, field="primary_email")


class NoPrimaryEmail(PortalError):
    title = "No valid Primary Email Address"


class WeakPassword(InvalidInput):
    title = "Choose another password"

    def __init__(self, message: str) -> None:
        super().__init__(message, field="password")


class StaleEdit(PortalError):
    title = "Changed by someone else"

    def __init__(
        self,
        message: str = "This customer was changed by someone else after you read it. Nothing was saved.",
    ) -> None:
        super().__init__(message)


class CustomerNotFound(PortalError):
    title = "No such customer"


class ActionNotAllowed(PortalError):
    title = "Not possible in this state"


class LinkUnusable(PortalError):
    """Deliberately neutral: used, expired, revoked and malformed links read the same."""

    title = "Link no longer valid"

    def __init__(
        self, message: str = "This link has already been used or has expired."
    ) -> None:
        super().__init__(message)


class FormExpired(LinkUnusable):
    """The page an opened link gave was left open longer than the link's grant: a new link
    is needed. Its own class, so the portal can say so without reading the message."""

    def __init__(
        self, message: str = "This page was open too long. Ask for a new link from the login page."
    ) -> None:
        super().__init__(message)


class InvalidLogin(PortalError):
    title = "Sign-in failed"

    def __init__(self, message: str = "That username and password do not match.") -> None:
        super().__init__(message)


class InvalidSetting(InvalidInput):
    title = "Invalid setting"


class UnexpectedError(PortalError):
    """A failure no rule foresaw (a bug): said with a reference to the log, never as a traceback."""

    title = "Unexpected error"


class StaleSetting(InvalidSetting):
    """A text setting was saved by someone else after the agent began to edit it."""

    title = "Changed by someone else"


class OutboxEmailNotFound(PortalError):
    title = "No such email"


class FormTriesUsedUp(LinkUnusable):
    """The form an opened link gave was sent as many times as one link allows: it closed, so a
    link can't be used to ask without end which usernames are taken. Its own class, so the
    portal can say so without reading the message."""

    def __init__(self, tries: int) -> None:
        super().__init__(f"This form was sent {tries} times, so it closed. Ask for a new link with "
                         "Forgot Password or Create Credential on the login page.")
        self.tries = tries


class TooManyAttempts(PortalError):
    """A sign-in or prompt limit is reached; ``wait`` is how long until the next try counts."""

    title = "Too many attempts"

    def __init__(self, wait: timedelta) -> None:
        minutes = max(1, math.ceil(wait.total_seconds() / 60))
        super().__init__(f"Too many attempts, try again in {minutes} minute{'' if minutes == 1 else 's'}.")
        self.wait = wait
