"""dashgen preview: the layout model follows gridPos; the images exist, are sized by the grid,
are deterministic, and the synthetic data is shaped by the thresholds."""

from __future__ import annotations

import copy
import json
import re
import struct
import warnings
from pathlib import Path

import pytest

from dashgen.artifacts import write_output
from dashgen.build import build_artifacts
from dashgen.catalog import load_catalog
from dashgen.review.preview import (
    BOTTOM_PX, HEADER_PX, ROW_PX, WIDTH_PX, Hints, color_of, layout_model, step_color, synthetic_series,
    write_previews,
)
from dashgen.review.preview.data import table_columns
from dashgen.review.preview.fonts import BASE_FONT, STAND_IN, fallbacks

from conftest import run_dashgen


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(None)


@pytest.fixture(scope="module")
def dashboards(catalog) -> dict[str, dict]:
    files = build_artifacts(catalog).artifacts
    out = {}
    for path, content in files.items():
        if path.startswith("dashboards/") and path.endswith(".json"):
            d = json.loads(content)
            out[d["uid"]] = d
    assert len(out) >= 1
    return out


@pytest.fixture(scope="module")
def previews(dashboards, catalog, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("previews")
    written = write_previews(list(dashboards.values()), out, catalog=catalog)
    assert sorted(p.name for p in written) == sorted(f"{uid}.{ext}" for uid in dashboards for ext in ("png", "svg"))
    return out


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def grid_rows(d: dict) -> int:
    return max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in d["panels"])


def panel(d: dict, title: str) -> dict:
    return next(p for p in d["panels"] if p.get("title") == title)


# ---------------------------------------------------------------------------------------------
# The layout model


@pytest.mark.parametrize("width", [WIDTH_PX, 1200])
def test_layout_boxes_are_gridpos_scaled(dashboards, width):
    for uid, d in dashboards.items():
        layout = layout_model(d, width)
        col = width / 24
        assert layout.width_px == width
        assert layout.height_px == HEADER_PX + grid_rows(d) * ROW_PX + BOTTOM_PX
        by_id = {b.panel_id: b for b in layout.boxes}
        assert set(by_id) == {p["id"] for p in d["panels"]}, uid
        for p in d["panels"]:
            gp, box = p["gridPos"], by_id[p["id"]]
            assert box.grid == (gp["x"], gp["y"], gp["w"], gp["h"])
            assert (box.left, box.top, box.width, box.height) == pytest.approx(
                (gp["x"] * col, HEADER_PX + gp["y"] * ROW_PX, gp["w"] * col, gp["h"] * ROW_PX)), (uid, p["title"])
            assert box.type == p["type"] and box.title == p["title"]
            assert box.left + box.width <= width + 1e-9


def test_layout_knows_rows_and_hides_collapsed_panels(dashboards):
    d = copy.deepcopy(dashboards["voice-tts"])
    layout = layout_model(d)
    box = next(b for b in layout.boxes if b.title == "Time to first audio p50/p95/p99")
    assert box.row == "TTS (text to speech): measurements"
    # Collapse the last row: Grafana keeps its panels inside it and shows only the header.
    rows = [p for p in d["panels"] if p["type"] == "row"]
    last = rows[-1]
    inside = [p for p in d["panels"] if p["gridPos"]["y"] > last["gridPos"]["y"]]
    assert inside
    last.update(collapsed=True, panels=inside)
    d["panels"] = [p for p in d["panels"] if p not in inside]
    layout = layout_model(d)
    assert {b.panel_id for b in layout.boxes} == {p["id"] for p in d["panels"]}
    assert next(b for b in layout.boxes if b.panel_id == last["id"]).collapsed
    assert layout.height_px == HEADER_PX + (last["gridPos"]["y"] + 1) * ROW_PX + BOTTOM_PX


# ---------------------------------------------------------------------------------------------
# The images


def test_every_dashboard_has_a_png_and_an_svg_sized_by_the_grid(dashboards, previews):
    for uid, d in dashboards.items():
        png, svg = previews / f"{uid}.png", previews / f"{uid}.svg"
        assert png.stat().st_size > 10_000, uid
        assert svg.stat().st_size > 10_000, uid
        assert png_size(png) == (WIDTH_PX, HEADER_PX + grid_rows(d) * ROW_PX + BOTTOM_PX), uid
        head = svg.read_text(encoding="utf-8")[:2000]
        w, h = (float(v) for v in re.search(r'width="([0-9.]+)pt" height="([0-9.]+)pt"', head).groups())
        assert (w, h) == pytest.approx((WIDTH_PX * 0.72, (HEADER_PX + grid_rows(d) * ROW_PX + BOTTOM_PX) * 0.72))
        # Titles are text in the SVG (svg.fonttype none): the reviewer can search them.
        text = svg.read_text(encoding="utf-8")
        for p in d["panels"]:
            assert p["title"].split("$")[0].strip()[:12].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") \
                .replace("'", "&#39;").replace('"', "&quot;") in text, (uid, p["title"])


def test_height_follows_the_grid_and_width_stays(dashboards, catalog, tmp_path):
    d = copy.deepcopy(dashboards["voice-llm"])
    last = max(d["panels"], key=lambda p: p["gridPos"]["y"] + p["gridPos"]["h"])
    last["gridPos"]["h"] += 10
    (path,) = write_previews([d], tmp_path, catalog=catalog, formats=("png",))
    assert png_size(path) == (WIDTH_PX, HEADER_PX + grid_rows(dashboards["voice-llm"]) * ROW_PX + BOTTOM_PX + 300)


def test_previews_are_deterministic(dashboards, catalog, previews, tmp_path):
    (path,) = write_previews([dashboards["voice-overview"]], tmp_path, catalog=catalog, formats=("png",), jobs=1)
    assert path.read_bytes() == (previews / "voice-overview.png").read_bytes()


# ---------------------------------------------------------------------------------------------
# Titles in any script: a fallback font when one is installed, else a stand-in and one line


def _retitled(dashboards, title: str) -> dict:
    d = copy.deepcopy(dashboards["voice-overview"])
    d["title"] = title
    d["panels"][1]["title"] = title
    return d


def test_a_glyph_the_base_font_lacks_is_drawn_with_an_installed_font(dashboards, tmp_path):
    # Ⓐ: not in DejaVu Sans, in the STIX fonts matplotlib ships (regular and bold), so on every machine.
    family, missing = fallbacks({"Ⓐ"})
    assert missing == set() and family and all(f != BASE_FONT for f in family)
    lines = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns once per glyph it cannot draw
        (svg,) = write_previews([_retitled(dashboards, "Ⓐ latency")], tmp_path, formats=("svg",), jobs=1,
                                warn=lines.append)
    assert lines == []
    text = svg.read_text(encoding="utf-8")
    assert "Ⓐ latency" in text and family[0] in text and STAND_IN not in text


def test_a_glyph_no_font_has_is_a_stand_in_and_one_line(dashboards, tmp_path):
    nowhere = "\U000F0001"  # a private-use code point no font maps (Last Resort is not a fallback)
    lines = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        written = write_previews([_retitled(dashboards, f"TTS {nowhere}"), dashboards["voice-llm"]], tmp_path,
                                 formats=("svg",), jobs=1, warn=lines.append)
    assert lines == [f"no installed font draws {nowhere} (in voice-overview): drawn as {STAND_IN}; install a font "
                     "that has them (e.g. Noto Sans CJK, Noto Emoji) for the real glyphs"]
    text = written[0].read_text(encoding="utf-8")
    assert f"TTS {STAND_IN}" in text and nowhere not in text


def test_cli_preview_of_cjk_titles_prints_no_matplotlib_warnings(dashboards, tmp_path):
    out = tmp_path / "build"
    files = {f"dashboards/voice-agent/{uid}.json": json.dumps(d) for uid, d in dashboards.items()}
    files["dashboards/voice-agent/voice-overview.json"] = json.dumps(_retitled(dashboards, "音声エージェント 🙂"))
    write_output(files, out)
    r = run_dashgen("preview", "--from", str(out), "-o", str(tmp_path / "png"), "--only", "voice-overview",
                    "--format", "png")
    assert r.returncode == 0, r.stderr
    # Either a font with the glyphs is installed (nothing to say) or one line names what is drawn as a stand-in.
    assert "UserWarning" not in r.stderr and "Glyph" not in r.stderr
    assert r.stderr == "" or (r.stderr.count("\n") == 1 and r.stderr.startswith("dashgen: warning: no installed font "
                                                                                  "draws "))


# ---------------------------------------------------------------------------------------------
# What is drawn: synthetic data shaped by the thresholds, table columns, stat colours


def test_timeseries_data_is_shaped_by_the_threshold(dashboards, catalog):
    hints = Hints.from_catalog(catalog)
    p = panel(dashboards["voice-tts"], "Time to first audio p50/p95/p99")
    series = {s.name.rsplit(" ", 1)[1]: s.values for s in synthetic_series(p, hints)}
    assert [s.name for s in synthetic_series(p, hints)] == [f"Time to first audio {q}" for q in ("p50", "p95", "p99")]
    limit = 350
    assert series["p50"].max() < limit  # the median stays well below the limit
    assert float((series["p95"] < limit).mean()) > 0.7  # p95 mostly below...
    assert series["p95"].max() > limit or series["p99"].max() > limit  # ...and crossing it during the incident
    assert (series["p50"] < series["p95"]).mean() > 0.9
    # Same panel, same data: seeded by the panel id.
    again = {s.name.rsplit(" ", 1)[1]: s.values for s in synthetic_series(p, hints)}
    assert all((series[k] == again[k]).all() for k in series)


def test_series_per_stage_use_each_stage_limit(dashboards, catalog):
    hints = Hints.from_catalog(catalog)
    p = panel(dashboards["voice-overview"], "First byte p95 by stage")
    series = {s.name: s.values for s in synthetic_series(p, hints)}  # named by the panel's overrides
    assert list(series) == ["ASR p95", "LLM p95", "TTS p95", "Client p95", "Barge-in p95"]
    assert series["ASR p95"].mean() < 150 < series["LLM p95"].mean() < 600  # asr limit 150 ms, llm 600 ms


def test_table_columns_come_from_select(dashboards):
    p = next(p for p in dashboards["voice-tts"]["panels"] if p["type"] == "table")
    assert table_columns(p) == ["Trace ID", "Start time", "audio.session_id", "audio.turn_id", "audio.first_byte_ms",
                                 "audio.total_ms", "audio.tts_max_gap_ms", "audio.error", "Duration"]


def test_stat_colour_follows_threshold_steps(dashboards):
    p = panel(dashboards["voice-overview"], "TTS time to first audio p95 now")
    assert step_color(p, 200) == color_of("green")
    assert step_color(p, 351) == color_of("red")
    assert color_of("rgba(255, 0, 255, 0.7)") == "#ff00ff"


# ---------------------------------------------------------------------------------------------
# The command


def test_cli_preview_only_and_formats(tmp_path):
    r = run_dashgen("preview", "-o", str(tmp_path / "out"), "--only", "voice-overview", "--format", "png")
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["voice-overview.png"]
    assert r.stdout.splitlines()[-1].startswith(f"dashgen: 1 dashboard previews (1 files) in {tmp_path / 'out'}")
    r = run_dashgen("preview", "-o", str(tmp_path / "out"), "--only", "nope")
    assert r.returncode == 2 and r.stderr.startswith("dashgen: error: --only nope: no such dashboard uid")


def test_cli_preview_without_matplotlib_says_how_to_install(tmp_path):
    fake = tmp_path / "fake" / "matplotlib"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('No module named matplotlib')\n")
    r = run_dashgen("preview", "-o", str(tmp_path / "out"), env={"PYTHONPATH": str(tmp_path / "fake")})
    assert r.returncode == 2  # the same code and wording as every missing extra: tests/test_cli_requirements.py
    assert r.stderr.startswith("dashgen: error: dashgen preview needs matplotlib (the 'preview' extra), which is not "
                               "installed: pip install 'matplotlib>=") and r.stderr.count("\n") == 1
    assert not (tmp_path / "out").exists()
