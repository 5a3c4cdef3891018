"""Compiled templates are cached between runs (jinja2's bytecode cache); the cache never changes output."""

from __future__ import annotations

import os
from pathlib import Path

import jinja2
import pytest

from dashgen.templating import _CompiledTemplateCache, cache_dir


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_cache_is_filled_reused_and_never_changes_output(tmp_path, dashgen_cli):
    cache = tmp_path / "cache"
    first = dashgen_cli("build", "-o", str(tmp_path / "a"), env={"DASHGEN_CACHE_DIR": str(cache)})
    assert first.returncode == 0, first.stderr
    entries = sorted((cache / "jinja2").glob("__jinja2_*.cache"))
    assert len(entries) >= 10  # one per template the build renders (TraceQL, PromQL, alert texts)
    assert all(e.read_bytes().startswith(b"j2") for e in entries)  # jinja2's bytecode magic
    stamps = {e: e.stat().st_mtime_ns for e in entries}
    second = dashgen_cli("build", "-o", str(tmp_path / "b"), env={"DASHGEN_CACHE_DIR": str(cache)})
    assert second.returncode == 0, second.stderr
    assert {e: e.stat().st_mtime_ns for e in entries} == stamps, "a warm build recompiled templates"
    # off: an empty DASHGEN_CACHE_DIR writes no cache anywhere (not even under XDG_CACHE_HOME)
    xdg = tmp_path / "xdg"
    off = dashgen_cli("build", "-o", str(tmp_path / "c"),
                      env={"DASHGEN_CACHE_DIR": "", "XDG_CACHE_HOME": str(xdg)})
    assert off.returncode == 0, off.stderr
    assert not xdg.exists()
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b") == _tree(tmp_path / "c")


def test_damaged_or_unwritable_cache_is_no_cache(tmp_path, dashgen_cli):
    cache = tmp_path / "cache"
    assert dashgen_cli("build", "-o", str(tmp_path / "ref"), env={"DASHGEN_CACHE_DIR": str(cache)}).returncode == 0
    entries = sorted((cache / "jinja2").glob("__jinja2_*.cache"))
    for i, e in enumerate(entries):  # truncated, foreign, right magic with garbage after it
        e.write_bytes([b"", b"not a cache", e.read_bytes()[:40] + b"\x00garbage"][i % 3])
    res = dashgen_cli("build", "-o", str(tmp_path / "damaged"), env={"DASHGEN_CACHE_DIR": str(cache)})
    assert res.returncode == 0 and res.stderr == "", res.stderr
    assert _tree(tmp_path / "damaged") == _tree(tmp_path / "ref")
    # the damaged entries were replaced by good ones (the next run is warm again)
    assert all(e.read_bytes().startswith(b"j2") and len(e.read_bytes()) > 100 for e in entries)
    # a cache path that cannot be created (its parent is a file; root ignores chmod)
    (tmp_path / "file").write_text("x")
    res = dashgen_cli("build", "-o", str(tmp_path / "nocache"), env={"DASHGEN_CACHE_DIR": str(tmp_path / "file" / "c")})
    assert res.returncode == 0 and res.stderr == "", res.stderr
    assert _tree(tmp_path / "nocache") == _tree(tmp_path / "ref")


def test_edited_template_is_a_miss_not_a_stale_hit(tmp_path):
    templates, cache = tmp_path / "templates", tmp_path / "cache"
    templates.mkdir(), cache.mkdir()

    def render() -> str:  # a fresh environment each time, as in a new process
        env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates)),
                                 bytecode_cache=_CompiledTemplateCache(str(cache)))
        return env.get_template("t.j2").render(x=1)

    (templates / "t.j2").write_text("v1 {{ x }}")
    assert render() == "v1 1" and len(list(cache.iterdir())) == 1
    assert render() == "v1 1"
    (templates / "t.j2").write_text("v2 {{ x }}")
    assert render() == "v2 1"


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="ownership is a POSIX notion")
def test_cache_owned_by_someone_else_is_not_used(tmp_path, monkeypatch):
    monkeypatch.setenv("DASHGEN_CACHE_DIR", str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c" / "jinja2"
    monkeypatch.setattr(os, "getuid", lambda: os.stat(tmp_path).st_uid + 1)  # as seen by another user
    assert cache_dir() is None
    monkeypatch.setenv("DASHGEN_CACHE_DIR", "")
    assert cache_dir() is None
