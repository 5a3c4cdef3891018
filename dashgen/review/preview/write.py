"""Previews written to files: PNG and SVG per dashboard, in parallel, the same bytes on every run."""

from __future__ import annotations

from pathlib import Path

from .data import Hints
from .draw import draw_dashboard
from .layout import WIDTH_PX
from .theme import BG, DPI


def _write_one(args) -> list[Path]:
    dashboard, out_dir, hints, formats, width_px = args
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    written = []
    with matplotlib.rc_context({"svg.fonttype": "none", "font.family": "DejaVu Sans", "svg.hashsalt": "dashgen",
                                "path.simplify": True}):
        fig, _ = draw_dashboard(dashboard, hints, width_px)
        FigureCanvasAgg(fig)
        for fmt in formats:
            path = Path(out_dir) / f"{dashboard.get('uid')}.{fmt}"
            metadata = {"Software": None} if fmt == "png" else {"Date": None, "Creator": None}
            fig.savefig(path, format=fmt, dpi=DPI, facecolor=BG, metadata=metadata)
            written.append(path)
    return written


def write_previews(dashboards: list[dict], out_dir: Path, catalog=None, formats=("png", "svg"),
                   width_px: int = WIDTH_PX, jobs: int | None = None) -> list[Path]:
    """Write ``<uid>.png`` / ``<uid>.svg`` for every dashboard into ``out_dir``; the paths written.

    Dashboards are drawn in parallel processes (one per CPU, at most one per dashboard) where
    the platform forks; the pictures are the same either way.
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
    return [p for paths in results for p in paths]
