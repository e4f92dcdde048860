"""Messages the console's widgets and workers post to each other, declared in one place.

Workers run in threads and hand their results back as messages
(``post_message`` is thread-safe), so nothing touches a widget off the event loop.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

from store.errors import PortalError
from store.values import SearchPage

if TYPE_CHECKING:  # the dashboard's values: not imported on the way to the console's first frame
    from store.customer_values import ActivityEntry, CustomerDetail, CustomerUpdate, OutboxEmail, PortalView


class OpenCustomer(Message):
    """Open this customer's dashboard (from search, the palette or the new-customer form)."""

    def __init__(self, reference: str) -> None:
        super().__init__()
        self.reference = reference


class ShowError(Message):
    """A domain error to show in the one error modal."""

    def __init__(self, error: PortalError) -> None:
        super().__init__()
        self.error = error


class SearchResults(Message):
    """A page of search results for query number ``generation`` (older ones are dropped)."""

    def __init__(self, generation: int, page: SearchPage) -> None:
        super().__init__()
        self.generation = generation
        self.page = page


@dataclass(frozen=True)
class Snapshot:
    """Everything the dashboard shows of one customer, read in one worker."""

    detail: CustomerDetail
    emails: tuple[OutboxEmail, ...]
    activity: tuple[ActivityEntry, ...]
    # What the poll compares: a change to any of these means "read again".
    marker: tuple[object, ...]


class CustomerLoaded(Message):
    """The dashboard's customer, freshly read by read number ``number`` (older ones are dropped)."""

    def __init__(self, snapshot: Snapshot, number: int | None = None) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.number = number


class PollFinished(Message):
    """The dashboard's background check found nothing new, or could not read (``error``)."""

    def __init__(self, error: PortalError | None) -> None:
        super().__init__()
        self.error = error


class CustomerGone(Message):
    """The dashboard's customer can't be read (no such reference): close it and say why."""

    def __init__(self, error: PortalError) -> None:
        super().__init__()
        self.error = error


class CustomerChanged(Message):
    """Something on the dashboard changed the customer (Update, Delete, Send, Retry): read it again."""


class ActionFinished(Message):
    """A PORTAL action's worker ended: the new view, or the domain error that stopped it."""

    def __init__(self, action: str, *, view: PortalView | None = None, toast: str | None = None,
                 error: PortalError | None = None) -> None:
        super().__init__()
        self.action = action
        self.view = view
        self.toast = toast
        self.error = error


class CustomerAdded(Message):
    """The new customer form saved: what to tell the agent, then open ``reference``."""

    def __init__(self, reference: str, text: str) -> None:
        super().__init__()
        self.reference = reference
        self.text = text


class FormRefused(Message):
    """The service layer refused a form; the form shows it at the field it names."""

    def __init__(self, error: PortalError) -> None:
        super().__init__()
        self.error = error


class CustomerRead(Message):
    """The edit form's customer, read again to see whether a field it edits changed elsewhere."""

    def __init__(self, detail: CustomerDetail) -> None:
        super().__init__()
        self.detail = detail


class CustomerEdited(Message):
    """The edit form saved: what changed, and how many links a new address revoked."""

    def __init__(self, update: CustomerUpdate) -> None:
        super().__init__()
        self.update = update


class WorkerFailed(Message):
    """A worker raised an error no service function promises: the app shows and logs it."""

    def __init__(self, worker_name: str, error: BaseException) -> None:
        super().__init__()
        self.worker_name = worker_name
        self.error = error
