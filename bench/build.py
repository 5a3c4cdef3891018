"""Benchmark `dashgen build`: wall time against the grafanalib floor, and scaling with stages.

    python bench/build.py [--runs 7] [--strict]

Every measurement is a fresh subprocess (what a user or CI pays), into a new temporary
directory, with the interpreter running these benchmarks:

- floor: ``python -c "import grafanalib.core"``, the start-up every grafanalib tool pays;
- stack: the floor plus ``import click, jinja2, yaml``, the rest of the prescribed stack;
- build: ``dashgen build`` on the bundled default catalog; target: median <= 1.5 x floor;
- build on synthetic catalogs with 10x and 100x the stages (copies of the default's stages
  with distinct ids, ``tts_007``...): the time above the floor per stage must stay flat
  (linear scaling), so the marginal cost per stage between 10x and 100x is printed too.

Runs are interleaved (floor, 1x, 10x, 100x, floor, ...) so a noisy neighbour hits all of them
alike; medians are reported. ``--strict`` exits 1 when the ratio target is missed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
DEFAULT = REPO / "dashgen" / "catalog" / "presets" / "default.yaml"
TARGET_RATIO = 1.5
# The console script is `from dashgen.cli import main; main()`; running it through the same
# interpreter avoids measuring a PATH lookup or a pyenv shim.
DASHGEN = [sys.executable, "-c", "from dashgen.cli import main; main()"]
FLOOR = [sys.executable, "-c", "import grafanalib.core"]
# The floor plus the rest of the stack the brief prescribes (click, jinja2, pyyaml): what any
# click + jinja2 + pyyaml tool on grafanalib pays before doing anything.
STACK = [sys.executable, "-c", "import grafanalib.core, click, jinja2, yaml"]


def synthetic_catalog(factor: int) -> str:
    """The default catalog with its stages copied ``factor`` times (ids tts, tts_001, ...)."""
    doc = yaml.safe_load(DEFAULT.read_text(encoding="utf-8"))
    stages = []
    for i in range(factor):
        for s in doc["stages"]:
            copy = yaml.safe_load(yaml.safe_dump(s))
            if i:
                copy["id"] = f"{s['id']}_{i:03d}"
                copy["span"] = f"{s['span']}_{i:03d}"
                short, paren, rest = s["title"].partition(" (")
                copy["title"] = f"{short} {i}{paren}{rest}"  # alert titles use the part before " ("
            stages.append(copy)
    doc["stages"] = stages
    return yaml.safe_dump(doc, sort_keys=False, width=120)


def bench_env(tmp: Path) -> dict[str, str]:
    """Bytecode caching on, as in a real install (pip compiles .pyc files at install time).

    With PYTHONDONTWRITEBYTECODE set (common in containers) an editable checkout would
    recompile every dashgen module on every run while grafanalib loads its .pyc: unfair.
    The caches go to a temporary PYTHONPYCACHEPREFIX, for the floor and dashgen alike.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    return env


ENV: dict[str, str] = {}


def timed(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=ENV or None)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[3:]) or cmd}: exit {proc.returncode}\n{proc.stderr}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=7, help="runs of each command (at least 5)")
    ap.add_argument("--factors", type=int, nargs="+", default=[1, 10, 100], help="stage multipliers")
    ap.add_argument("--strict", action="store_true", help=f"exit 1 when build/floor > {TARGET_RATIO}")
    args = ap.parse_args(argv)
    runs = max(5, args.runs)
    n_base = len(yaml.safe_load(DEFAULT.read_text(encoding="utf-8"))["stages"])

    with tempfile.TemporaryDirectory(prefix="dashgen-bench-") as tmp:
        tmp = Path(tmp)
        ENV.update(bench_env(tmp))
        catalogs: dict[int, list[str]] = {}
        for f in args.factors:
            if f == 1:
                catalogs[f] = ["-c", "default"]  # the bundled default
            else:
                path = tmp / f"catalog-x{f}.yaml"
                path.write_text(synthetic_catalog(f), encoding="utf-8")
                catalogs[f] = ["-c", str(path)]
        # one warm-up of each (bytecode caches, page cache), not counted
        timed(FLOOR, tmp)
        for f, cat in catalogs.items():
            timed(DASHGEN + ["build", *cat, "-o", str(tmp / f"warm-{f}")], tmp)

        floor: list[float] = []
        stack: list[float] = []
        build: dict[int, list[float]] = {f: [] for f in catalogs}
        for r in range(runs):
            floor.append(timed(FLOOR, tmp))
            stack.append(timed(STACK, tmp))
            for f, cat in catalogs.items():
                build[f].append(timed(DASHGEN + ["build", *cat, "-o", str(tmp / f"out-{f}-{r}")], tmp))
        files = {f: sum(1 for p in (tmp / f"out-{f}-0").rglob("*") if p.is_file()) for f in catalogs}

    med_floor = statistics.median(floor)
    med = {f: statistics.median(v) for f, v in build.items()}
    print(f"python {sys.version.split()[0]}, {runs} interleaved runs each, medians")
    print(f"floor  python -c 'import grafanalib.core'   {med_floor * 1000:8.1f} ms")
    med_stack = statistics.median(stack)
    print(f"stack  + import click, jinja2, yaml          {med_stack * 1000:8.1f} ms   "
          f"= {med_stack / med_floor:.2f} x floor before dashgen runs a line")
    for f in catalogs:
        stages = n_base * f
        above = med[f] - med_floor
        print(f"build  x{f:<4d} {stages:4d} stages {files[f]:5d} files  {med[f] * 1000:8.1f} ms   "
              f"above floor {above * 1000:8.1f} ms = {above / stages * 1000:6.2f} ms/stage")
    ratio = med[1] / med_floor if 1 in med else float("nan")
    print(f"ratio  build(default) / floor = {ratio:.2f}  (target <= {TARGET_RATIO}: "
          f"{'met' if ratio <= TARGET_RATIO else 'MISSED'})")
    if 1 in med:
        print(f"ratio  build(default) / stack = {med[1] / med_stack:.2f}  (the same target measured from the "
              f"prescribed stack's start-up instead of grafanalib's alone)")
    big = sorted(f for f in catalogs if f > 1)
    if len(big) >= 2:
        lo, hi = big[0], big[-1]
        marginal = (med[hi] - med[lo]) / (n_base * (hi - lo))
        per_lo = (med[lo] - med_floor) / (n_base * lo)
        per_hi = (med[hi] - med_floor) / (n_base * hi)
        print(f"scaling  marginal cost x{lo}->x{hi}: {marginal * 1000:.2f} ms/stage; above-floor per stage "
              f"x{hi}/x{lo} = {per_hi / per_lo:.2f} (1.0 = linear; fixed start-up costs push it below 1)")
    return 1 if args.strict and ratio > TARGET_RATIO else 0


if __name__ == "__main__":
    sys.exit(main())
