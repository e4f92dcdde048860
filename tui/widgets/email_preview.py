"""The email PORTAL's one action would send (`v` on PORTAL), before it is sent: From, To, the
exact subject and text body the customer gets, the link a placeholder (its token is made only
as the email goes out). Gets a plain EmailPreview; sends nothing."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from store.portal_values import EmailPreview
from tui import bindings
from tui.widgets.footer import Footer


class EmailPreviewModal(ModalScreen[None]):
    """The preview's headers and text body, scrolled with the arrows; esc closes."""

    AUTO_FOCUS = "#preview-body"
    CSS_PATH = "email_preview.tcss"
    BINDINGS = list(bindings.EMAIL_PREVIEW)

    def __init__(self, preview: EmailPreview) -> None:
        super().__init__()
        self.preview = preview

    def compose(self) -> ComposeResult:
        preview = self.preview
        with Vertical(id="preview-dialog"):
            yield Label(f"Preview: {preview.kind.type_name} email (not sent)", id="preview-title", markup=False)
            yield Static(f"From:    {preview.sender}", classes="preview-header", markup=False)
            yield Static(f"To:      {', '.join(preview.to)}", classes="preview-header", markup=False)
            yield Static(f"Subject: {preview.subject}", id="preview-subject", classes="preview-header",
                         markup=False)
            with VerticalScroll(id="preview-body"):
                yield Static(preview.text, id="preview-text", markup=False)
            yield Label("The link is made when the email is sent; m on PORTAL sends it.",
                        id="preview-note", classes="muted")
        yield Footer()

    def action_close(self) -> None:
        self.dismiss(None)
