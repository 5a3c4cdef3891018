"""The output tree: one reader for a directory, one for git blobs, the same {path: text} map;
paths classified by where build puts them; bad files are one located line."""

from __future__ import annotations

import pytest

from dashgen.artifacts import (
    COLLECTOR, DASHBOARD, GRAFANA_RULES, MANIFEST, PROMETHEUS_RULES, PROVISIONING, ROUTING, check_output, from_blobs, kind_of,
    of_kind, read_output, write_output,
)
from dashgen.build import build_artifacts
from dashgen.catalog import load_catalog
from dashgen.errors import InputError

from conftest import run_dashgen


@pytest.fixture(scope="module")
def built() -> dict[str, str]:
    return build_artifacts(load_catalog(None)).artifacts


def test_every_built_path_has_its_kind(built):
    kinds = {rel: kind_of(rel) for rel in built}
    assert kinds.pop(MANIFEST) is None
    assert set(kinds.values()) == {DASHBOARD, GRAFANA_RULES, PROVISIONING, PROMETHEUS_RULES, COLLECTOR, ROUTING}
    assert [rel for rel, _ in of_kind(built, DASHBOARD)] == sorted(r for r, k in kinds.items() if k == DASHBOARD)


@pytest.mark.parametrize("path", ["dashboards/a.json", "dashboards/f/x/a.json", "alerts/grafana/g.json",
                                  "alerts/prometheus/x/g.yaml", "alerts/provisioning/g.json", "notes/f/a.json"])
def test_files_outside_the_layout_have_no_kind(path):
    assert kind_of(path) is None


def test_read_output_round_trips_write_output_and_check_agrees(built, tmp_path):
    write_output(built, tmp_path)
    assert read_output(tmp_path) == built
    assert list(read_output(tmp_path)) == sorted(built)
    assert check_output(built, tmp_path).ok
    (tmp_path / "dashboards" / "stray.txt").write_text("x")
    assert read_output(tmp_path)["dashboards/stray.txt"] == "x"
    assert check_output(built, tmp_path).extra == ["dashboards/stray.txt"]
    assert read_output(tmp_path / "nowhere") == {}


def test_a_file_that_is_not_utf8_is_one_located_error(tmp_path):
    (tmp_path / "dashboards" / "f").mkdir(parents=True)
    (tmp_path / "dashboards" / "f" / "a.json").write_bytes(b'{"title": "caf\xe9"}')
    with pytest.raises(InputError, match=r"/dashboards/f/a\.json: not UTF-8 text \(byte 14\)$"):
        read_output(tmp_path)
    with pytest.raises(InputError, match=r"^3f2a9c1:alerts/x\.yaml: not UTF-8 text"):
        from_blobs([("alerts/x.yaml", b"\xff")], "3f2a9c1:")


def test_bytes_are_kept_as_they_are(tmp_path):
    """No newline translation: what check compares, diff and lint read."""
    assert from_blobs([("b", b"x\r\n"), ("a", b"")], "") == {"a": "", "b": "x\r\n"}


def test_cli_preview_of_a_broken_dashboard_is_one_line(built, tmp_path):
    write_output(built, tmp_path / "out")
    rel, _ = of_kind(built, DASHBOARD)[0]
    (tmp_path / "out" / rel).write_text("{\n  nope")
    r = run_dashgen("preview", "--from", str(tmp_path / "out"), "-o", str(tmp_path / "png"))
    assert r.returncode == 2
    assert r.stderr == f"dashgen: error: {tmp_path / 'out'}/{rel}:2:3: not valid JSON: " \
                       "Expecting property name enclosed in double quotes\n"
