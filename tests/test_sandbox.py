"""`dashgen sandbox` (issue 23 section 3): the tests' strict emulator, served by one documented command.

The sandbox runs as a real subprocess on 127.0.0.1 with an ephemeral port (``--port 0``), found
through ``--env-file``; every wait is bounded. plan, push, a no-op push, a drift refusal and a
prune run against it and, side by side, against an in-process ``GrafanaEmulator`` of the same
version and toggles: the answers must be the same.
"""

from __future__ import annotations

import base64
import os
import json
import re
import signal
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from conftest import REPO, run_dashgen  # noqa: E402
from push_fixtures import run_cli, write_build  # noqa: E402

from dashgen.sandbox import GrafanaEmulator  # noqa: E402

FAST = ["--retry-base-delay", "0.001"]
STARTUP_S = 30


@contextmanager
def sandbox(tmp_path: Path, *args: str):
    """``dashgen sandbox --port 0 --env-file F ARGS`` in its own process; yields (env, banner)."""
    env_file = tmp_path / "sandbox.env"
    proc = subprocess.Popen([sys.executable, "-c", "from dashgen.cli import main; main()", "sandbox",
                             "--port", "0", "--env-file", str(env_file), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + STARTUP_S
        while not env_file.exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "dashgen sandbox did not start in time"
            time.sleep(0.05)
        env = dict(line.split("=", 1) for line in env_file.read_text().splitlines())
        banner = [proc.stdout.readline() for _ in range(6)]
        yield env, banner
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            _, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise
    assert proc.returncode == 0, err
    assert "dashgen sandbox: stopped" in err


@contextmanager
def in_process(version: str, toggles: dict[str, bool]):
    with GrafanaEmulator(grafana_version=version, feature_toggles=toggles) as emu:
        yield {"GRAFANA_URL": emu.url, "GRAFANA_TOKEN": emu.token}


def human_edit(env: dict[str, str], uid: str) -> None:
    """A person changes a dashboard's title through the HTTP API, as the UI would (user admin)."""
    auth = "Basic " + base64.b64encode(b"admin:admin-password").decode()

    def call(method: str, path: str, body: dict | None = None) -> dict:
        req = urllib.request.Request(env["GRAFANA_URL"] + path, method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": auth, "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as res:
            return json.loads(res.read())

    got = call("GET", f"/api/dashboards/uid/{uid}")
    dash = got["dashboard"]
    dash["title"] += " (edited by hand)"
    call("POST", "/api/dashboards/db", {"dashboard": dash, "folderUid": got["meta"]["folderUid"], "overwrite": True})


def normalized(res, url: str) -> tuple[int, object]:
    """Exit code and JSON document, without what differs between two instances (URL, timings)."""
    text = res.out.replace(url, "URL")
    doc = json.loads(text) if text.strip().startswith("{") else text
    return res.code, _strip_times(doc)


def _strip_times(obj):
    if isinstance(obj, dict):
        return {k: _strip_times(v) for k, v in obj.items()
                if k not in ("elapsed_s", "seconds", "duration_s", "updated", "updated_at", "when", "requests")}
    if isinstance(obj, list):
        return [_strip_times(v) for v in obj]
    if isinstance(obj, str):
        return re.sub(r"\d{4}-\d\d-\d\dT[\d:.]+Z?", "TIME", obj)
    return obj


@pytest.fixture(scope="module")
def default_build(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("default-build")
    res = run_dashgen("build", "-c", "default", "-o", str(out), cwd=REPO)
    assert res.returncode == 0, res.stderr
    return out


def scenario(env: dict[str, str], build: Path) -> list[tuple[int, object]]:
    """plan, push, plan (no-op), a person's edit, plan (drifted), push (refused): what each answered."""
    url = env["GRAFANA_URL"]
    steps = [run_cli(["plan", "--from", str(build), "--output", "json", *FAST], env),
             run_cli(["push", "--from", str(build), "--output", "json", *FAST], env),
             run_cli(["plan", "--from", str(build), "--output", "json", *FAST], env)]
    human_edit(env, "voice-tts")
    steps += [run_cli(["plan", "--from", str(build), "--output", "json", *FAST], env),
              run_cli(["push", "--from", str(build), *FAST], env)]
    return [normalized(r, url) for r in steps[:-1]] + [(steps[-1].code, _strip_times(steps[-1].err.replace(url, "URL")))]


def actions(answer) -> dict[str, str]:
    return {f"{r['kind']} {r['key']}": r.get("outcome") or r.get("action") for r in answer[1]["resources"]}


@pytest.mark.parametrize("version,toggles", [("11.6", []), ("12.2", ["grafanaManagedRecordingRules"])])
def test_sandbox_answers_plan_push_drift_like_the_tests_emulator(tmp_path, default_build, version, toggles):
    args = ["--grafana-version", version, *(a for t in toggles for a in ("--toggle", t))]
    with sandbox(tmp_path, *args) as (env, banner):
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", env["GRAFANA_URL"]), env
        assert re.fullmatch(r"glsa_\w{32}_[0-9a-f]{8}", env["GRAFANA_TOKEN"])
        assert banner[0].startswith(f"dashgen sandbox: Grafana {version}.0 emulator at {env['GRAFANA_URL']}")
        assert f"export GRAFANA_URL={env['GRAFANA_URL']} GRAFANA_TOKEN={env['GRAFANA_TOKEN']}" in "".join(banner)
        served = scenario(env, default_build)
    with in_process(f"{version}.0", {t: True for t in toggles}) as env2:
        reference = scenario(env2, default_build)

    assert served == reference
    first_plan, first_push, noop, drifted, refused = served
    assert first_plan[0] == 0 and set(actions(first_plan).values()) == {"create"}
    assert first_push[0] == 0 and set(actions(first_push).values()) == {"created"}
    recording = "rule-group voice-agent/voice-slo-recording"
    assert (recording in actions(first_push)) == bool(toggles)  # the toggle reached the instance
    assert noop[0] == 0 and set(actions(noop).values()) == {"unchanged"}
    assert drifted[0] == 3 and actions(drifted)["dashboard voice-tts"] == "drifted"
    assert refused[0] == 3 and "voice-tts" in refused[1] and "admin" in refused[1]


def test_sandbox_prunes_what_the_build_no_longer_makes(tmp_path):
    build = write_build(tmp_path / "build", 3)
    with sandbox(tmp_path) as (env, _):
        assert run_cli(["push", "--from", str(build), *FAST], env).code == 0
        write_build(build, 3, only=[0, 1])
        res = run_cli(["push", "--from", str(build), "--prune", "--output", "json", *FAST], env)
        assert res.code == 0, res.all
        assert actions((res.code, json.loads(res.out)))["dashboard voice-002"] == "deleted"
        again = run_cli(["plan", "--from", str(build), "--prune", "--output", "json", *FAST], env)
        assert "dashboard voice-002" not in actions((again.code, json.loads(again.out)))


def test_sandbox_datasource_option_serves_a_catalogs_own_names(tmp_path):
    with sandbox(tmp_path, "--datasource", "Mimir=prometheus") as (env, banner):
        assert "Mimir (prometheus)" in "".join(banner)
        req = urllib.request.Request(env["GRAFANA_URL"] + "/api/frontend/settings",
                                     headers={"Authorization": f"Bearer {env['GRAFANA_TOKEN']}"})
        with urllib.request.urlopen(req, timeout=10) as res:
            settings = json.loads(res.read())
    assert {"Mimir", "Prometheus", "Tempo"} <= set(settings["datasources"])
    assert settings["datasources"]["Mimir"]["type"] == "prometheus"


@pytest.mark.parametrize("args,message", [
    (["--grafana-version", "10.4"], "--grafana-version '10.4': give MAJOR.MINOR[.PATCH] from 11.6 to 13.x"),
    (["--datasource", "Mimir"], "--datasource 'Mimir': give NAME=prometheus or NAME=tempo"),
])
def test_sandbox_bad_options_are_one_line_exit_2(args, message):
    res = run_dashgen("sandbox", "--port", "0", *args)
    assert res.returncode == 2 and res.stderr.count("\n") == 1, res.stderr
    assert message in res.stderr


def test_sandbox_port_taken_is_one_line_exit_2():
    with GrafanaEmulator() as emu:
        port = emu.url.rsplit(":", 1)[1]
        res = run_dashgen("sandbox", "--port", port)
    assert res.returncode == 2 and res.stderr.count("\n") == 1, res.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in res.stderr


def test_sandbox_stops_cleanly_when_signalled_as_soon_as_it_listens(tmp_path):
    """SIGTERM right after the env file appears: exit 0 and "stopped" (the context manager checks),
    and the port is free again."""
    with sandbox(tmp_path) as (env, _):
        url = env["GRAFANA_URL"]
    with pytest.raises(OSError):
        urllib.request.urlopen(url + "/api/health", timeout=2)


def test_the_documented_ci_block_runs_as_written(tmp_path, default_build):
    """docs/sandbox.md's "In CI" block, run by bash in a directory holding a build output."""
    doc = (REPO / "docs" / "sandbox.md").read_text()
    block = re.search(r"## In CI\n.*?```sh\n(.*?)```", doc, re.S).group(1)
    assert "dashgen sandbox" in block and "dashgen push --from ." in block
    import shutil

    work = tmp_path / "repo"
    shutil.copytree(default_build, work)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRAFANA_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", block], cwd=work, env=env,
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summaries = [line for line in proc.stdout.splitlines() if line.startswith("Summary:")]
    assert len(summaries) == 2 and "created" in summaries[0] and "unchanged" in summaries[1], proc.stdout
