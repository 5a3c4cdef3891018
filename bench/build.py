"""Benchmark `dashgen build`: wall time against its own stack's start-up, and cost per stage.

    python bench/build.py [--runs 9] [--stages 10 100 500] [--strict] [--against CHECKOUT]

Every measurement is a fresh subprocess (what a user or CI pays), into a new temporary
directory, with the interpreter running these benchmarks:

- stack: ``python -c "import grafanalib.core, click, jinja2, yaml"``, the start-up of the stack
  dashgen is written in, paid before dashgen runs a line;
- build: ``dashgen build -c default`` (the bundled catalog, its lint gate included);
  target: median build / median stack <= 1.3;
- build on synthetic catalogs of 10, 100 and 500 stages (copies of the default's stages with
  distinct ids, ``tts_007``...): the time above the stack per stage, and the marginal cost per
  stage between successive sizes. Linear in stages: the marginal costs stay flat.

Every command runs once per round, in the same round, so a noisy neighbour hits all of them
alike (the machine's load is printed too); medians are reported. ``--against`` also times
``dashgen build -c default`` from another checkout (e.g. a ``git worktree`` of the previous
commit) in the same rounds: a before/after comparison under the same load. ``--strict`` exits 1
when the ratio target is missed.
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
TARGET_RATIO = 1.3
# The console script is `from dashgen.cli import main; main()`; running it through the same
# interpreter avoids measuring a PATH lookup or a pyenv shim.
DASHGEN = [sys.executable, "-c", "from dashgen.cli import main; main()"]
# The stack the project is written in (grafanalib, click, jinja2, pyyaml): what any such tool
# pays before doing anything.
STACK = [sys.executable, "-c", "import grafanalib.core, click, jinja2, yaml"]
# grafanalib alone, for reference: most of the stack's start-up.
FLOOR = [sys.executable, "-c", "import grafanalib.core"]


def synthetic_catalog(factor: int) -> str:
    """The default catalog with its stages copied ``factor`` times (ids tts, tts_001, ...).

    The barge-in breakdown is one dashboard per catalog (one stage has ``role: barge_in``), so
    the copies of that stage are plain stages (``role: custom``) with the same measurements."""
    return synthetic_stages(len(yaml.safe_load(DEFAULT.read_text(encoding="utf-8"))["stages"]) * factor)


def synthetic_stages(n: int) -> str:
    """The default catalog grown (or cut) to ``n`` stages: its stages, then numbered copies."""
    doc = yaml.safe_load(DEFAULT.read_text(encoding="utf-8"))
    base = doc["stages"]
    stages = []
    for k in range(n):
        i, s = divmod(k, len(base))
        copy = yaml.safe_load(yaml.safe_dump(base[s]))
        if i:
            copy["id"] = f"{copy['id']}_{i:03d}"
            copy["span"] = f"{copy['span']}_{i:03d}"
            short, paren, rest = copy["title"].partition(" (")
            copy["title"] = f"{short} {i}{paren}{rest}"  # alert titles use the part before " ("
            if copy.get("role") == "barge_in":
                copy["role"] = "custom"
        stages.append(copy)
    doc["stages"] = stages
    return yaml.safe_dump(doc, sort_keys=False, width=120)


def bench_env(tmp: Path) -> dict[str, str]:
    """Bytecode caching on, as in a real install (pip compiles .pyc files at install time).

    With PYTHONDONTWRITEBYTECODE set (common in containers) an editable checkout would
    recompile every dashgen module on every run while grafanalib loads its .pyc: unfair.
    The caches go to a temporary PYTHONPYCACHEPREFIX, for the stack and dashgen alike.
    """
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")}
    env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    return env


ENV: dict[str, str] = {}


def timed(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env or ENV or None)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[3:]) or cmd}: exit {proc.returncode}\n{proc.stderr}")
    return elapsed


def load() -> str:
    try:
        return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg()) + f" on {os.cpu_count()} CPUs"
    except OSError:
        return "load average unknown"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=9, help="rounds (at least 5)")
    ap.add_argument("--stages", type=int, nargs="+", default=[10, 100, 500], help="synthetic catalog sizes")
    ap.add_argument("--against", type=Path, metavar="CHECKOUT",
                    help="also time the default build of another dashgen checkout, in the same rounds")
    ap.add_argument("--strict", action="store_true", help=f"exit 1 when build/stack > {TARGET_RATIO}")
    args = ap.parse_args(argv)
    runs = max(5, args.runs)
    sizes = sorted(set(args.stages))

    with tempfile.TemporaryDirectory(prefix="dashgen-bench-") as tmp:
        tmp = Path(tmp)
        ENV.update(bench_env(tmp))
        builds: dict[str, list[str]] = {"default": ["-c", "default"]}
        for n in sizes:
            path = tmp / f"catalog-{n}.yaml"
            path.write_text(synthetic_stages(n), encoding="utf-8")
            builds[str(n)] = ["-c", str(path)]
        other_env = None
        if args.against:
            other_env = dict(ENV, PYTHONPATH=str(args.against.resolve()),
                             PYTHONPYCACHEPREFIX=str(tmp / "pycache-against"))

        def round_(r: int | str) -> dict[str, float]:
            t = {"floor": timed(FLOOR, tmp), "stack": timed(STACK, tmp)}
            for key, cat in builds.items():
                t[key] = timed(DASHGEN + ["build", *cat, "-o", str(tmp / f"out-{key}-{r}")], tmp)
            if other_env:
                t["against"] = timed(DASHGEN + ["build", "-c", "default", "-o", str(tmp / f"against-{r}")],
                                     tmp, other_env)
            return t

        round_("warm")  # bytecode caches and the page cache, not counted
        load_before = load()
        rounds = [round_(r) for r in range(runs)]
        load_after = load()
        files = {key: sum(1 for p in (tmp / f"out-{key}-0").rglob("*") if p.is_file()) for key in builds}

    med = {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
    ratio = {key: statistics.median(r[key] / r["stack"] for r in rounds) for key in rounds[0]}
    stack = med["stack"]
    print(f"python {sys.version.split()[0]}, {runs} rounds (every command once per round), medians; "
          f"{load_before} before, {load_after} after")
    print(f"floor   python -c 'import grafanalib.core'          {med['floor'] * 1000:8.1f} ms")
    print(f"stack   python -c 'import grafanalib.core, click, jinja2, yaml'   {stack * 1000:8.1f} ms")
    print(f"build   -c default {files['default']:5d} files           {med['default'] * 1000:8.1f} ms   "
          f"= {ratio['default']:.2f} x stack (median of the rounds' ratios; target <= {TARGET_RATIO}: "
          f"{'met' if ratio['default'] <= TARGET_RATIO else 'MISSED'})")
    if "against" in med:
        print(f"against {args.against}: build -c default     {med['against'] * 1000:8.1f} ms   "
              f"= {ratio['against']:.2f} x stack")
    previous = None
    for n in sizes:
        key = str(n)
        above = med[key] - stack
        line = (f"build   {n:4d} stages {files[key]:5d} files   {med[key] * 1000:8.1f} ms   "
                f"above stack {above / n * 1000:6.2f} ms/stage")
        if previous is not None:
            p, pt = previous
            line += f"   marginal {p}->{n}: {(med[key] - pt) / (n - p) * 1000:6.2f} ms/stage"
        print(line)
        previous = (n, med[key])
    if len(sizes) >= 3:
        (a, b, c) = sizes[-3:]
        m1 = (med[str(b)] - med[str(a)]) / (b - a)
        m2 = (med[str(c)] - med[str(b)]) / (c - b)
        print(f"linear  marginal cost {b}->{c} / {a}->{b} = {m2 / m1:.2f} (1.0 = linear in stages)")
    return 1 if args.strict and ratio["default"] > TARGET_RATIO else 0


if __name__ == "__main__":
    sys.exit(main())
