"""A team's own project: commands run without -c build the project's catalog, never the bundled demo.

The project is what the README walks a new team through: a repository holding ``my.yaml`` (a
catalog of their own, with a folder and uid prefix of their own), built and committed. Every
command left without ``-c`` must find that catalog (in ``dashgen.toml``, or in the catalog the
output's manifest records) or refuse; none may write, lint, diff or push the ``voice-*`` demo.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from conftest import DEFAULT_CATALOG, run_dashgen
from dashgen.sandbox.emulator import GrafanaEmulator  # noqa: E402
from push_fixtures import run_cli

NO_CATALOG = "dashgen: error: no catalog: pass -c FILE or run dashgen init\n"


def own_catalog() -> str:
    """The default preset turned into a team's own: folder support-bot, uids support-*."""
    text = DEFAULT_CATALOG.read_text(encoding="utf-8")
    for old, new in (("    uid: voice-agent\n", "    uid: support-bot\n"),
                     ("    title: Voice agent\n", "    title: Support bot\n"),
                     ("  uid_prefix: voice\n", "  uid_prefix: support\n")):
        assert old in text, old
        text = text.replace(old, new)
    return text


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and ".git" not in p.relative_to(root).parts}


def uids(root: Path) -> set[str]:
    return {p.stem for p in (root / "dashboards").rglob("*.json")}


@pytest.fixture
def project(tmp_path) -> Path:
    """A git repository built from its own my.yaml and committed; no project file."""
    root = tmp_path / "voice-dashboards"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "t@example.com")
    git(root, "config", "user.name", "t")
    (root / "my.yaml").write_text(own_catalog(), encoding="utf-8")
    r = run_dashgen("build", "-c", "my.yaml", cwd=root)
    assert r.returncode == 0, r.stderr
    git(root, "add", "-A")
    git(root, "commit", "-qm", "dashboards")
    assert uids(root) and all(u.startswith("support-") for u in uids(root))
    return root


def test_build_without_c_rebuilds_the_catalog_the_output_records(project):
    before = tree(project)
    assert "catalog_file: my.yaml\n" in (project / "dashboards" / "manifest.yaml").read_text()
    check = run_dashgen("build", "--check", cwd=project)
    assert check.returncode == 0, check.stderr
    r = run_dashgen("build", cwd=project)
    assert r.returncode == 0, r.stderr
    assert "(catalog my.yaml)" in r.stdout
    assert tree(project) == before  # the same catalog, the same bytes: no voice-* demo dashboards


def test_build_with_another_catalog_refuses_naming_both(project):
    before = tree(project)
    r = run_dashgen("build", "-c", "default", cwd=project)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1
    assert "records the catalog my.yaml, not default" in r.stderr and "--replace-catalog" in r.stderr
    assert tree(project) == before
    # the environment variable is refused the same way, and says where the catalog came from
    r = run_dashgen("build", cwd=project, env={"DASHGEN_CATALOG": "pipecat"})
    assert r.returncode == 2 and "not pipecat (from DASHGEN_CATALOG)" in r.stderr
    assert tree(project) == before
    # asked explicitly, it switches
    r = run_dashgen("build", "-c", "default", "--replace-catalog", cwd=project)
    assert r.returncode == 0, r.stderr
    assert uids(project) and all(u.startswith("voice-") for u in uids(project))


def test_no_catalog_anywhere_is_exit_2_and_writes_nothing(tmp_path):
    for args in (["build"], ["build", "--check"], ["lint"], ["verify-traces", "t.json"], ["simulate", "--out", "t.json"]):
        r = run_dashgen(*args, cwd=tmp_path)
        assert (r.returncode, r.stderr) == (2, NO_CATALOG), args
    assert list(tmp_path.iterdir()) == []


def test_check_hint_names_the_command_that_rebuilds(project, tmp_path):
    out = tmp_path / "elsewhere"
    r = run_dashgen("build", "-c", "my.yaml", "-o", str(out), "--schema-version", "41", cwd=project)
    assert r.returncode == 0, r.stderr
    (out / "dashboards" / "manifest.yaml").unlink()
    r = run_dashgen("build", "-c", "my.yaml", "-o", str(out), "--schema-version", "41", "--check", cwd=project)
    assert r.returncode == 1
    hint = r.stderr.rpartition("run: ")[2].strip()
    assert hint == f"dashgen build -c my.yaml -o {out} --schema-version 41"
    # the hint is a command that really rebuilds: run it, and --check passes
    argv = hint.split()[1:]
    assert run_dashgen(*argv, cwd=project).returncode == 0
    assert run_dashgen(*argv, "--check", cwd=project).returncode == 0
    # in the project itself, without flags, the hint is the bare command
    (project / "alerts" / "prometheus" / "support-latency.yaml").write_text("groups: []\n")
    r = run_dashgen("build", "--check", cwd=project)
    assert r.returncode == 1 and r.stderr.rstrip().endswith("run: dashgen build")
    assert run_dashgen("build", cwd=project).returncode == 0
    assert run_dashgen("build", "--check", cwd=project).returncode == 0


def test_lint_from_and_diff_without_c_use_the_project_catalog(project):
    r = run_dashgen("lint", "--from", ".", cwd=project)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "problem:" not in r.stdout and "support-overview:" in r.stdout
    r = run_dashgen("lint", "--from", ".", "-c", "default", cwd=project)
    assert r.returncode == 2 and "records the catalog my.yaml, not default" in r.stderr
    r = run_dashgen("diff", "--exit-code", cwd=project)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "no changes" in r.stdout.splitlines()[0]
    r = run_dashgen("diff", "-c", "default", cwd=project)
    assert r.returncode == 2 and "records the catalog my.yaml, not default" in r.stderr


def test_push_without_c_pushes_the_project_catalog(project, monkeypatch):
    monkeypatch.chdir(project)
    monkeypatch.delenv("DASHGEN_CATALOG", raising=False)
    with GrafanaEmulator() as emu:
        env = {"GRAFANA_URL": emu.url, "GRAFANA_TOKEN": emu.token}
        r = run_cli(["push", "--retry-base-delay", "0.001"], env)
        assert r.code == 0, r.all
        assert set(emu.dashboards) == uids(project)
        assert all(u.startswith("support-") for u in emu.dashboards)


def test_project_file_wins_over_the_manifest_and_loses_to_flags(project):
    (project / "other.yaml").write_text(own_catalog().replace("uid_prefix: support", "uid_prefix: other"))
    r = run_dashgen("init", "--catalog", "other.yaml", cwd=project)
    assert r.returncode == 0 and r.stdout == "dashgen: wrote dashgen.toml; next: dashgen build\n", r.stderr
    # dashgen.toml names other.yaml, the output records my.yaml: refused, naming both
    r = run_dashgen("build", cwd=project)
    assert r.returncode == 2 and "records the catalog my.yaml, not other.yaml (from dashgen.toml)" in r.stderr
    # -c beats the project file; run from a subdirectory, the project file's paths are its own
    sub = project / "sub"
    sub.mkdir()
    r = run_dashgen("build", "--check", cwd=sub)
    assert r.returncode == 2 and "not ../other.yaml (from ../dashgen.toml)" in r.stderr
    r = run_dashgen("build", "--check", "-c", "../my.yaml", cwd=sub)
    assert r.returncode == 0 and r.stdout.endswith("files up to date in ..\n"), r.stderr  # the project's output
    r = run_dashgen("build", "--replace-catalog", cwd=project)
    assert r.returncode == 0 and all(u.startswith("other-") for u in uids(project))


def test_tool_dashgen_in_pyproject(project):
    (project / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.dashgen]\ncatalog = "my.yaml"\n'
                                            'schema_version = 41\n')
    r = run_dashgen("build", "-o", "v41", cwd=project)
    assert r.returncode == 0, r.stderr
    files = list((project / "v41" / "dashboards").rglob("*.json"))
    assert files and {json.loads(f.read_text())["schemaVersion"] for f in files} == {41}
    (project / "pyproject.toml").write_text('[tool.dashgen]\ncatalgo = "my.yaml"\n')
    r = run_dashgen("build", cwd=project)
    assert r.returncode == 2 and "pyproject.toml [tool.dashgen]: unknown key 'catalgo'" in r.stderr


def test_init(tmp_path):
    r = run_dashgen("init", "--from-preset", "pipecat", "--catalog", "cat/voice.yaml", "--schema-version", "41",
                    "--grafana-url", "https://grafana.example.com", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "cat" / "voice.yaml").read_text() == (DEFAULT_CATALOG.parent / "pipecat.yaml").read_text()
    text = (tmp_path / "dashgen.toml").read_text()
    assert 'catalog = "cat/voice.yaml"' in text and "schema_version = 41" in text
    assert 'url = "https://grafana.example.com"' in text
    r = run_dashgen("build", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "catalog_file: cat/voice.yaml\n" in (tmp_path / "dashboards" / "manifest.yaml").read_text()
    # a second init refuses; a catalog that does not load is refused before anything is written
    r = run_dashgen("init", "--catalog", "cat/voice.yaml", cwd=tmp_path)
    assert r.returncode == 2 and "dashgen.toml already exists" in r.stderr
    (tmp_path / "bad.yaml").write_text("stages: 3\n")
    before = (tmp_path / "dashgen.toml").read_text()
    r = run_dashgen("init", "--catalog", "bad.yaml", "--force", cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.startswith("bad.yaml:")
    assert (tmp_path / "dashgen.toml").read_text() == before
    assert "dashgen init --catalog my.yaml" in run_dashgen("init", "--help").stdout


def test_did_you_mean(tmp_path):
    r = run_dashgen("build", "-c", "pipcat", cwd=tmp_path)
    assert r.returncode == 2 and "pipcat: no such catalog file; did you mean pipecat?" in r.stderr
    (tmp_path / "support.yaml").write_text(own_catalog())
    r = run_dashgen("lint", "-c", "suport.yaml", cwd=tmp_path)
    assert r.returncode == 2 and "did you mean support.yaml?" in r.stderr
    r = run_dashgen("build", "-c", "nothing-like-it.yaml", cwd=tmp_path)
    assert r.returncode == 2 and "did you mean" not in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["support.yaml"]
