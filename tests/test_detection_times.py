"""docs/alerts.md's detection-time table is what promtool measures on the built rules today:
``scripts/detection_times.py`` regenerates it (one promtool run) and this test compares."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from dashgen.alerts.detection import END, START, parse, render, replace_block

ROOT = Path(__file__).resolve().parent.parent


def _script():
    spec = importlib.util.spec_from_file_location("detection_times", ROOT / "scripts" / "detection_times.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_docs_table_is_the_measured_one():
    doc = (ROOT / "docs" / "alerts.md").read_text(encoding="utf-8")
    fresh = _script().table()
    assert replace_block(doc, fresh) == doc, "docs/alerts.md is stale: run scripts/detection_times.py"
    # what the table must show: every p95 page sees every step within 20 minutes; a burn page
    # never sees a moderate breach
    rows = {line.split("|")[1].strip(" `"): [c.strip() for c in line.split("|")[2:-1]]
            for line in fresh.splitlines()[2:]}
    assert {n for n in rows if n.endswith("P95High")} == {"VoiceAsrFirstByteP95High", "VoiceTtsFirstByteP95High",
                                                        "VoiceBargeInSilenceP95High"}
    for name, cells in rows.items():
        if name.endswith("P95High"):
            assert all(c.endswith("m") and "h" not in c and int(c[:-1]) <= 20 for c in cells), (name, cells)
        else:
            assert cells[0] == cells[1] == "never" and cells[3] != "never", (name, cells)


def test_the_measurement_reads_promtools_report():
    """The parser takes what promtool reports for a probe that expected nothing."""
    out = ('        got: {alertname="A", probe="3", stage="tts"} 2.226E+04, {alertname="B", probe="3"} 3E+02\n'
           '        got: {__name__="x"} 1\n')
    assert parse(out) == {("3", "A"): 22260.0, ("3", "B"): 300.0}


def test_replace_block_needs_the_markers():
    import pytest

    with pytest.raises(ValueError):
        replace_block("no markers", "t")
    assert replace_block(f"a\n{START}\nold\n{END}\nb", "new") == f"a\n{START}\nnew\n{END}\nb"
    assert render({"X": {"2x burn": 61.0}}).splitlines()[2].startswith("| `X` | 1h 01m | never")
