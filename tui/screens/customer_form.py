"""What the New customer and Edit customer forms share: a refused value said under its
field (and cleared as the agent types there), Enter to the next field and Save in the last,
one save at a time, and Save usable again after an unexpected error."""
from __future__ import annotations

from typing import ClassVar, TypeVar

from textual import on
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label
from textual.worker import Worker, WorkerState

from store.errors import PortalError
from tui.workers import ReportsWorkerErrors

ResultType = TypeVar("ResultType")


class CustomerForm(ReportsWorkerErrors, ModalScreen[ResultType]):
    """A modal form of labelled fields (#field-<id>, #error-<id>) with Save and Cancel."""

    # (field id as store errors name it, label, placeholder), in the order shown.
    FIELDS: ClassVar[tuple[tuple[str, str, str], ...]] = ()
    # The worker group of the save, so an unexpected error in it gives Save back.
    SAVE_GROUP: ClassVar[str] = ""

    def __init__(self) -> None:
        super().__init__()
        self._saving = False

    def value_of(self, field: str) -> str:
        return self.query_one(f"#field-{field}", Input).value

    def values(self) -> dict[str, str]:
        """What every field holds now."""
        return {field: self.value_of(field) for field, _, _ in self.FIELDS}

    def show_error(self, field: str, message: str | None) -> None:
        """Say (or clear, with None) what is wrong under one field."""
        label = self.query_one(f"#error-{field}", Label)
        label.update(message or "")
        label.set_class(message is not None, "-shown")
        self.query_one(f"#field-{field}", Input).set_class(message is not None, "-invalid")

    def begin_save(self) -> bool:
        """Claim the one save in flight; False while another runs."""
        if self._saving:
            return False
        self._saving = True
        self.query_one("#save-button", Button).disabled = True
        return True

    def end_save(self) -> None:
        self._saving = False
        self.query_one("#save-button", Button).disabled = False

    def show_refusal(self, error: PortalError) -> bool:
        """End the save; say a refusal under the field it names. False when it names none."""
        self.end_save()
        if error.field in {field for field, _, _ in self.FIELDS}:
            self.show_error(error.field, error.message)
            self.query_one(f"#field-{error.field}", Input).focus()
            return True
        return False

    def action_save(self) -> None:
        raise NotImplementedError

    @on(Input.Changed)
    def _edited(self, event: Input.Changed) -> None:
        if event.input.id and event.input.id.startswith("field-"):
            self.show_error(event.input.id.removeprefix("field-"), None)

    @on(Input.Submitted)
    def _next_or_save(self, event: Input.Submitted) -> None:
        if event.input.id == f"field-{self.FIELDS[-1][0]}":
            self.action_save()
        else:
            self.focus_next()

    @on(Button.Pressed, "#save-button")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#cancel-button")
    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Worker.StateChanged)
    def _save_broke(self, event: Worker.StateChanged) -> None:
        # An unexpected error (the app shows it): Save works again, what was typed stays.
        if event.worker.group == self.SAVE_GROUP and event.state is WorkerState.ERROR:
            self.end_save()
