"""Previews written to files: PNG and SVG per dashboard, in parallel, the same bytes on every run."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from .data import Hints
from .draw import draw_dashboard
from .fonts import BASE_FONT, STAND_IN, cover_text
from .layout import WIDTH_PX
from .theme import BG, DPI


def _write_one(args) -> tuple[list[Path], set[str]]:
    """One dashboard's files, and the characters no installed font could draw in it."""
    dashboard, out_dir, hints, formats, width_px = args
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    written = []
    with matplotlib.rc_context({"svg.fonttype": "none", "font.family": BASE_FONT, "svg.hashsalt": "dashgen",
                                "path.simplify": True}):
        fig, _ = draw_dashboard(dashboard, hints, width_px)
        missing = cover_text(fig)
        FigureCanvasAgg(fig)
        for fmt in formats:
            path = Path(out_dir) / f"{dashboard.get('uid')}.{fmt}"
            metadata = {"Software": None} if fmt == "png" else {"Date": None, "Creator": None}
            fig.savefig(path, format=fmt, dpi=DPI, facecolor=BG, metadata=metadata)
            written.append(path)
    return written, missing


def write_previews(dashboards: list[dict], out_dir: Path, catalog=None, formats=("png", "svg"),
                   width_px: int = WIDTH_PX, jobs: int | None = None,
                   warn: Callable[[str], None] | None = None) -> list[Path]:
    """Write ``<uid>.png`` / ``<uid>.svg`` for every dashboard into ``out_dir``; the paths written.

    Dashboards are drawn in parallel processes (one per CPU, at most one per dashboard) where
    the platform forks; the pictures are the same either way. Characters no installed font
    draws are told to ``warn`` in one line for the whole run.
    """
    import multiprocessing
    import os

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    hints = Hints.from_catalog(catalog)
    work = [(d, str(out_dir), hints, tuple(formats), width_px) for d in dashboards]
    jobs = min(jobs or os.cpu_count() or 1, len(work))
    if jobs > 1 and "fork" in multiprocessing.get_all_start_methods():
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            results = pool.map(_write_one, work, chunksize=1)
    else:
        results = [_write_one(w) for w in work]
    missing = sorted(set().union(*(m for _, m in results)))
    if missing and warn is not None:
        where = [str(d.get("uid")) for d, (_, m) in zip(dashboards, results) if m]
        warn(f"no installed font draws {' '.join(missing)} (in {', '.join(where)}): drawn as {STAND_IN}; "
             f"install a font that has them (e.g. Noto Sans CJK, Noto Emoji) for the real glyphs")
    return [p for paths, _ in results for p in paths]
