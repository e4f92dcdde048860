"""Plain, frozen values of bulk sends (store/bulk.py) and customer imports (store/importer.py)."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from .values import EmailKind


class BulkSkip(str, Enum):
    """Why a bulk send leaves a customer out."""

    no_valid_address = "no_valid_address"
    recent_link = "recent_link"
    suspended = "suspended"  # rule 16: no email while the portal access is suspended

    def text(self, recent_hours: int) -> str:
        if self is BulkSkip.no_valid_address:
            return "no valid Primary Email Address"
        if self is BulkSkip.suspended:
            return "portal access suspended"
        return f"a link sent in the last {recent_hours} h is still unused"


@dataclass(frozen=True)
class BulkSend:
    """What a bulk send did (or, as a dry run, would do): emails by kind, skips by reason."""

    matching: int
    queued: tuple[tuple[EmailKind, int], ...]
    skipped: tuple[tuple[BulkSkip, int], ...]
    recent_hours: int
    dry_run: bool = False
    # Stopped before every matching customer was looked at; what was queued stays queued.
    cancelled: bool = False

    @property
    def queued_total(self) -> int:
        return sum(n for _, n in self.queued)

    @property
    def skipped_total(self) -> int:
        return sum(n for _, n in self.skipped)

    @property
    def looked_at(self) -> int:
        """How many customers were looked at: each was queued or skipped (fewer than
        ``matching`` when the send was cancelled)."""
        return self.queued_total + self.skipped_total

    @property
    def summary(self) -> str:
        """One line: how many get which email, how many are skipped and why."""
        verb = "would be queued" if self.dry_run else "queued"
        kinds = ", ".join(f"{n:,} {kind.type_name}" for kind, n in self.queued if n) or "no email"
        line = f"{self.matching:,} matching: {kinds} {verb}"
        skips = "; ".join(f"{n:,} {reason.text(self.recent_hours)}" for reason, n in self.skipped if n)
        if skips:
            line += f"; skipped: {skips}"
        if self.cancelled:
            line += " (cancelled: the rest were not looked at)"
        return line + "."


@dataclass(frozen=True)
class RefusedRow:
    """A line of an import file that was not imported, and why."""

    line: int
    reason: str


@dataclass(frozen=True)
class ImportReport:
    """What importing a customer file did (or, as a dry run, would do)."""

    rows: int
    imported: int
    refused: tuple[RefusedRow, ...]
    dry_run: bool = False
