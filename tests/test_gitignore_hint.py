"""``.dashgen/`` (previews, push backups) is suggested for the user's .gitignore, once (issue 12, point 6)."""

from __future__ import annotations

import pytest

from conftest import run_dashgen
from dashgen.cli.common import gitignore_hint

NOTE = "dashgen: note: add .dashgen/ (previews, push backups) to {}"


def test_preview_says_it_once_when_the_gitignore_lacks_it(tmp_path):
    (tmp_path / ".gitignore").write_text("__pycache__/\n# .dashgen/ is not here\n", encoding="utf-8")
    args = ("preview", "-c", "default", "--only", "voice-overview", "--format", "png")
    first = run_dashgen(*args, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stderr.splitlines() == [NOTE.format(".gitignore")]
    assert (tmp_path / ".dashgen" / "preview" / "voice-overview.png").is_file()
    again = run_dashgen(*args, cwd=tmp_path)  # .dashgen/ exists now: said already
    assert again.returncode == 0 and again.stderr == ""


@pytest.mark.parametrize("content", [".dashgen/\n", "/.dashgen\n", "**/.dashgen/\n", ".dash*\n", ".dashgen/*\n"])
def test_no_note_when_the_gitignore_covers_it(tmp_path, capsys, content):
    (tmp_path / ".gitignore").write_text(f"build/\n{content}", encoding="utf-8")
    gitignore_hint(tmp_path / ".dashgen" / "preview")
    assert capsys.readouterr().err == ""


def test_no_note_without_a_gitignore_or_outside_dashgen(tmp_path, capsys):
    gitignore_hint(tmp_path / ".dashgen" / "preview")  # no .gitignore: not a project we advise
    (tmp_path / ".gitignore").write_text("!.dashgen\n# .dashgen\n", encoding="utf-8")
    gitignore_hint(tmp_path / "previews")  # the user chose another directory
    assert capsys.readouterr().err == ""
    gitignore_hint(tmp_path / ".dashgen" / "preview")  # negations and comments do not count
    assert capsys.readouterr().err == NOTE.format(tmp_path / ".gitignore") + "\n"
