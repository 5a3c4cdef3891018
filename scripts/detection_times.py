#!/usr/bin/env python3
"""Measure the time to page of every paging rule of the bundled catalog with promtool, and write
the table into docs/alerts.md between the detection-times markers.

    scripts/detection_times.py           # rewrite the table
    scripts/detection_times.py --check   # exit 1 when docs/alerts.md differs from a fresh measurement
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from dashgen.alerts.detection import measure, render, replace_block
from dashgen.build import build_artifacts
from dashgen.catalog import load_catalog

DOC = Path(__file__).resolve().parent.parent / "docs" / "alerts.md"


def table() -> str:
    built = build_artifacts(load_catalog())
    with tempfile.TemporaryDirectory() as tmp:
        return render(measure(built.rules, Path(tmp), shutil.which("promtool") or "promtool"))


def main(argv: list[str]) -> int:
    doc = DOC.read_text(encoding="utf-8")
    new = replace_block(doc, table())
    if "--check" in argv:
        if new != doc:
            print(f"{DOC}: the detection-time table is stale (run scripts/detection_times.py)", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
