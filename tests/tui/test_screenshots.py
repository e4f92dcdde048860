"""`make screenshots`: the README's pictures come from the demo data, the same every run."""
from __future__ import annotations

from pathlib import Path

import pytest

from tui import screenshots


class TestScreenshots:
    def test_named_shots_are_written_from_the_demo_data(self, tmp_path: Path) -> None:
        """The settings and outbox pictures show the demo account's switches and the failed email."""
        written = screenshots.take_all(tmp_path, ["settings", "outbox"])
        assert [p.name for p in written] == ["settings.svg", "outbox.svg"]
        settings_svg = (tmp_path / "settings.svg").read_text(encoding="utf-8")
        outbox_svg = (tmp_path / "outbox.svg").read_text(encoding="utf-8")
        assert "Notifications" in settings_svg and "acme.example" in settings_svg
        assert "mailbox" in outbox_svg and "failed" in outbox_svg

    def test_an_unknown_shot_name_is_refused(self, tmp_path: Path) -> None:
        """A typo names the shots that exist instead of writing nothing silently."""
        with pytest.raises(SystemExit, match="unknown screenshot.*known: search"):
            screenshots.take_all(tmp_path, ["setings"])
        assert not list(tmp_path.iterdir())
