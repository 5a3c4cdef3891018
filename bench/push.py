"""Benchmark `dashgen push`: 200 generated dashboards against the Grafana emulator, 50 ms per request,
in both API modes: legacy (/api, Grafana 11.6) and apps (the App Platform, Grafana 13).

    python bench/push.py [--dashboards 200] [--latency 0.05] [--concurrency 8] [--mode legacy|apps|both]

The emulator answers each request 50 ms after it arrived, its own work included, as a server
whose latency is 50 ms would (it used to add its Python processing on top, which then counted
against dashgen). Prints, per mode, the initial push wall time, the ideal bound (requests x latency / concurrency)
and their ratio (target <= 1.3 at concurrency 8), and for a no-op push the number of requests
(legacy floor N+4; `--api legacy` makes N+3: health, frontend settings, N dashboard reads, one
rule group; apps mode N+5: also GET /apis, and the probe, read through /api beside the
preflight, once more through /apis) and writes (target 0); then the legacy initial push at
concurrency 1.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE.parent))

from push_fixtures import run_cli, write_build  # noqa: E402


class RemoteEmulator:
    """The emulator in its own process, as a real Grafana would be: dashgen's threads and the
    server's then do not share one interpreter lock, so the timings measure dashgen."""

    def __init__(self, latency: float, version: str = "11.6.0"):
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_serve, args=(child, latency, version), daemon=True)
        self.proc.start()
        self.url, self.token = self.conn.recv()

    def ask(self, cmd: str) -> object:
        self.conn.send(cmd)
        return self.conn.recv()

    def __enter__(self) -> "RemoteEmulator":
        return self

    def __exit__(self, *exc: object) -> None:
        self.ask("stop")
        self.proc.join(5)


def _serve(conn, latency: float, version: str) -> None:
    from dashgen.sandbox.emulator import GrafanaEmulator

    emu = GrafanaEmulator(grafana_version=version).start()
    emu.latency = latency
    conn.send((emu.url, emu.token))
    while True:
        cmd = conn.recv()
        if cmd == "reset":
            emu.reset_records()
            conn.send(None)
        elif cmd == "counts":
            conn.send((len(emu.requests), len(emu.writes()), len(emu.duplicates())))
        else:
            emu.stop()
            conn.send(None)
            return


def timed_push(emu: RemoteEmulator, build: Path, concurrency: int, *extra: str) -> tuple[float, int, int]:
    emu.ask("reset")
    env = {"GRAFANA_URL": emu.url, "GRAFANA_TOKEN": emu.token}
    t = time.perf_counter()
    res = run_cli(["push", "--from", str(build), "--concurrency", str(concurrency), *extra], env)
    wall = time.perf_counter() - t
    if res.code != 0:
        raise SystemExit(f"push failed (exit {res.code}):\n{res.err[-2000:]}")
    reqs, writes, dups = emu.ask("counts")
    assert dups == 0
    return wall, reqs, writes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dashboards", type=int, default=200)
    ap.add_argument("--latency", type=float, default=0.05)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--mode", choices=["legacy", "apps", "both"], default="both")
    args = ap.parse_args()
    n, lat, conc = args.dashboards, args.latency, args.concurrency

    t = time.perf_counter()
    import dashgen.grafana.apply  # noqa: F401  - warm the imports: the CLI's start-up is not network time
    import dashgen.cli  # noqa: F401
    import dashgen.grafana.workflow  # noqa: F401
    print(f"(dashgen import time, excluded from the timings below: {time.perf_counter() - t:.2f} s)")
    modes = {"legacy": "11.6.0", "apps": "13.0.0"}
    with tempfile.TemporaryDirectory() as tmp:
        build = write_build(Path(tmp) / "build", n)
        print(f"dashgen push benchmark: {n} dashboards + 1 folder + 1 rule group, {lat * 1000:.0f} ms per request")
        for mode in (modes if args.mode == "both" else [args.mode]):
            version = modes[mode]
            with RemoteEmulator(lat, version) as emu:
                wall, reqs, writes = timed_push(emu, build, conc, "--api", mode)
                ideal = reqs * lat / conc
                print(f"[{mode}, Grafana {version}] initial push, concurrency {conc}: {wall:.2f} s, {reqs} requests, "
                      f"{writes} writes; ideal {reqs} x {lat * 1000:.0f} ms / {conc} = {ideal:.2f} s; "
                      f"ratio {wall / ideal:.2f} (target <= 1.3)")
                wall, reqs, writes = timed_push(emu, build, conc, "--api", mode)
                if mode == "legacy":
                    verdict = "met" if reqs <= n + 4 else "MISSED"
                    what = (f"floor N+4 = {n + 4}: {verdict}; health + frontend settings + {n} dashboard reads "
                            "+ 1 rule group")
                else:
                    what = (f"N+5 = {n + 5}: health + frontend settings + /apis + the probe through /api beside "
                            f"them + {n} dashboard reads through /apis + 1 rule group")
                print(f"[{mode}] no-op push: {reqs} requests ({what}), {writes} writes (target 0), {wall:.2f} s")
                wall, reqs, writes = timed_push(emu, build, conc, "--api", mode, "--quick")
                print(f"[{mode}] no-op push --quick (trusts dashgen-hash tags in /api/search): {reqs} requests, "
                      f"{writes} writes, {wall:.2f} s")
        if args.mode in ("both", "legacy"):
            with RemoteEmulator(lat) as emu:
                wall1, reqs, writes = timed_push(emu, build, 1, "--api", "legacy")
                print(f"[legacy] initial push, concurrency 1: {wall1:.2f} s, {reqs} requests "
                      f"(ideal {reqs * lat:.2f} s; ratio {wall1 / (reqs * lat):.2f})")


if __name__ == "__main__":
    main()
