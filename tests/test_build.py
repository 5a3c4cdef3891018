"""``dashgen build``: canonical, deterministic, atomic output; --check; the first real dashboard.

Acceptance lines (issue 2) are quoted in each test's docstring.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
import yaml

from conftest import REPO, run_dashgen
from dashgen.artifacts import check_output, write_output
from dashgen.build import build_artifacts
from dashgen.catalog import load_catalog, parse_catalog
from dashgen.dashboards.kit import Ctx
from dashgen.dashboards.model import Row, TextPanel
from dashgen.artifacts import LEGACY_PANEL_KEYS, canonical_yaml
from dashgen.canonical import NULL, canonical_json, decoded, parse, to_plain
from traceql_grammar import assert_traceql_parses

PRESET_FILES = sorted((REPO / "dashgen" / "catalog" / "presets").glob("*.yaml"))
PRESETS = [p.stem for p in PRESET_FILES]
UID_RE = re.compile(r"[a-zA-Z0-9_-]{1,40}")
BASE = (REPO / "dashgen" / "catalog" / "presets" / "default.yaml").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def builds() -> dict[str, dict[str, str]]:
    """preset -> {relative path: content}, built in-process once per preset."""
    return {name: build_artifacts(load_catalog(str(path))).artifacts for name, path in zip(PRESETS, PRESET_FILES)}


def dashboards_of(artifacts: dict[str, str]) -> dict[str, dict]:
    return {p: json.loads(c) for p, c in artifacts.items() if p.startswith("dashboards/") and p.endswith(".json")}


def walk(obj, path=""):
    """Yield (json path, value) for every value."""
    yield path, obj
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from walk(v, f"{path}/{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from walk(v, f"{path}/{i}")


def test_presets_exist():
    assert "default" in PRESETS


# 4. Canonical output ------------------------------------------------------------------------------

@pytest.mark.parametrize("preset", PRESETS)
def test_output_is_canonical(builds, preset):
    """"Build: canonical output: sorted keys, 2-space indent, trailing newline, no null values
    except the base threshold step's "value": null, none of grafanalib's legacy keys, no
    dashboard id, schemaVersion 41 by default"."""
    arts = builds[preset]
    dashboards = dashboards_of(arts)
    assert dashboards, arts.keys()
    for rel, content in arts.items():
        assert content.endswith("\n") and not content.endswith("\n\n"), rel
        if rel.endswith(".json"):
            data = json.loads(content)
            assert content == json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n", rel
        elif rel.endswith((".yaml", ".yml")):
            data = yaml.safe_load(content)
            assert content == yaml.safe_dump(data, sort_keys=True, default_flow_style=False, allow_unicode=True,
                                             width=100), rel
    for rel, d in dashboards.items():
        assert "id" not in d, rel
        assert d["schemaVersion"] == 41, rel
        nulls = [p for p, v in walk(d) if v is None]
        allowed = re.compile(r"/panels/\d+/fieldConfig/defaults/thresholds/steps/0/value")
        assert all(allowed.fullmatch(p) for p in nulls), (rel, nulls)
        for panel in d["panels"]:
            assert not LEGACY_PANEL_KEYS & set(panel), (rel, panel["title"], LEGACY_PANEL_KEYS & set(panel))
            steps = panel.get("fieldConfig", {}).get("defaults", {}).get("thresholds", {}).get("steps")
            if steps:
                assert steps[0]["value"] is None and all(isinstance(s["value"], (int, float)) for s in steps[1:])


def test_schema_version_42_flag(tmp_path):
    """"schemaVersion 41 by default and 42 with --schema-version 42"."""
    assert run_dashgen("build", "-c", "default", "-o", "v41", cwd=tmp_path).returncode == 0
    assert run_dashgen("build", "-c", "default", "-o", "v42", "--schema-version", "42", cwd=tmp_path).returncode == 0
    for version in (41, 42):
        files = sorted((tmp_path / f"v{version}" / "dashboards").rglob("*.json"))
        assert files
        assert {json.loads(f.read_text())["schemaVersion"] for f in files} == {version}
    bad = run_dashgen("build", "-c", "default", "-o", "v40", "--schema-version", "40", cwd=tmp_path)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and not (tmp_path / "v40").exists()


def test_yaml_output_does_not_depend_on_libyaml(builds):
    """Byte-identical across machines: libyaml's emitter (used when present) and pyyaml's pure
    Python one write the same bytes for every generated YAML file."""
    checked = 0
    for arts in builds.values():
        for rel, content in arts.items():
            if rel.endswith((".yaml", ".yml")):
                assert canonical_yaml(yaml.safe_load(content), yaml.SafeDumper) == content, rel
                checked += 1
    assert checked >= len(builds)


TRICKY_DATA = {
    "unicode": "café — ü \u2028 \t \"quoted\" back\\slash", "empty": {}, "none": [], "nested": [{}, [], [[]]],
    "floats": [0.1, -2.5, 1e17, 1.5e-07, 1e300, 123456789.125], "ints": [0, -1, 10**20], "bools": [True, False],
    "yamlish": ["yes", "no", "on", "null", "~", "1e3", "0x1f", "2024-01-01", "12:30", "- x", "a: b", "#c", ""],
    "long": "word " * 60, "lines": "first\nsecond\n", "keys": {"b": 1, "a": 2, "B": 3, "_": 4, "é": 5, "10": 6, "9": 7},
    "null_kept": NULL, "dropped": None,
}


def test_json_output_is_what_json_dumps_writes(builds):
    """canonical_json writes the bytes of json.dumps(sort_keys=True, indent=2, ensure_ascii=False)
    (its own encoder stands in for json's pure-Python indenting one): every built JSON file, and
    values a catalog could bring."""
    checked = 0
    for arts in builds.values():
        for rel, content in arts.items():
            if rel.endswith(".json"):
                assert content == json.dumps(json.loads(content), sort_keys=True, indent=2, ensure_ascii=False) + "\n"
                checked += 1
    assert checked > len(builds)
    plain = to_plain(TRICKY_DATA)
    assert canonical_json(TRICKY_DATA) == json.dumps(plain, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert json.loads(canonical_json(TRICKY_DATA)) == plain


def test_yaml_output_is_what_yaml_dump_writes_for_any_value():
    """canonical_yaml makes the nodes pyyaml's SafeRepresenter would (quoting, folding, floats)."""
    assert canonical_yaml(TRICKY_DATA) == canonical_yaml(TRICKY_DATA, yaml.SafeDumper)
    assert yaml.safe_load(canonical_yaml(TRICKY_DATA)) == to_plain(TRICKY_DATA)


def test_the_gate_reads_the_data_each_file_was_written_from(builds):
    """Within canonical.decoded() (build + lint gate), parse() gives back the data behind a text
    instead of decoding it again: that data is exactly what decoding the text gives."""
    catalog = load_catalog("default")
    with decoded():
        arts = build_artifacts(catalog).artifacts
        remembered = {rel: parse(rel, text) for rel, text in arts.items() if rel.endswith((".json", ".yaml"))}
    assert len(remembered) > 10
    for rel, data in remembered.items():
        assert data == parse(rel, arts[rel]), rel
    with decoded():
        text = canonical_json({"a": [1]})
        assert parse("x.json", text) is not parse("x.json", text)  # handed back once, then decoded


# Determinism --------------------------------------------------------------------------------------

def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_byte_identical_across_runs_directories_and_hash_seeds(tmp_path):
    """"Byte-identical across runs and machines: ... two builds in different directories (and with
    a different cwd / PYTHONHASHSEED) compare bytes; no absolute paths in output"."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b" / "deeper").mkdir(parents=True)
    catalog = tmp_path / "b" / "my-catalog.yaml"
    catalog.write_text(BASE, encoding="utf-8")
    r1 = run_dashgen("build", "-c", "default", "-o", str(tmp_path / "a" / "out"), cwd=tmp_path / "a", env={"PYTHONHASHSEED": "1"})
    r2 = run_dashgen("build", "-c", "../my-catalog.yaml", "-o", "out2", cwd=tmp_path / "b" / "deeper",
                     env={"PYTHONHASHSEED": "4242", "TZ": "Asia/Tokyo", "LC_ALL": "C"})
    assert r1.returncode == 0 and r2.returncode == 0, (r1.stderr, r2.stderr)
    t1, t2 = tree(tmp_path / "a" / "out"), tree(tmp_path / "b" / "deeper" / "out2")
    # the manifest records which catalog built it, relative to the output (never where a machine keeps it)
    manifest = "dashboards/manifest.yaml"
    assert b"\ncatalog_file: default\n" in t1[manifest]
    assert b"\ncatalog_file: ../../my-catalog.yaml\n" in t2[manifest]
    t2[manifest] = t2[manifest].replace(b"../../my-catalog.yaml", b"default")
    assert len(t1) >= 2 and t1 == t2
    # and equal to the in-process build
    assert t1 == {k: v.encode() for k, v in build_artifacts(load_catalog("default")).artifacts.items()}
    for rel, data in t1.items():
        text = data.decode("utf-8")
        for needle in (str(tmp_path), "/work", "/tmp/", "/root", str(Path.home()), "my-catalog"):
            assert needle not in text, (rel, needle)


# 6. uids ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("preset", PRESETS)
def test_dashboard_and_rule_uids_are_short_and_safe(builds, preset):
    """"Dashboard and rule uids stable, at most 40 characters, [a-zA-Z0-9_-]"."""
    arts = builds[preset]
    uids = []
    for rel, d in dashboards_of(arts).items():
        assert UID_RE.fullmatch(d["uid"]) and Path(rel).stem == d["uid"], rel
        uids.append(d["uid"])
    rule_uids = []
    for rel, content in arts.items():
        if rel.startswith("alerts/"):
            data = json.loads(content) if rel.endswith(".json") else yaml.safe_load(content)
            rule_uids += [v for p, v in walk(data) if re.search(r"/rules/\d+/uid$", p)]
    for uid in rule_uids:
        assert isinstance(uid, str) and UID_RE.fullmatch(uid), uid
    assert len(set(uids)) == len(uids)
    # stable: a rebuild from a renamed copy of the catalog gives the same uids
    again = build_artifacts(parse_catalog(load_catalog_text(preset), "elsewhere/renamed.yaml")).artifacts
    assert sorted(again) == sorted(arts)


def load_catalog_text(preset: str) -> str:
    return (REPO / "dashgen" / "catalog" / "presets" / f"{preset}.yaml").read_text(encoding="utf-8")


# 5. Panel ids from stable keys --------------------------------------------------------------------

def _panels():
    return [
        Row(key="row-a", title="A"),
        TextPanel(key="alpha", title="Alpha", description="a", content="a", w=8, h=4),
        TextPanel(key="beta", title="Beta", description="b", content="b", w=8, h=4),
        Row(key="row-b", title="B"),
        TextPanel(key="gamma", title="Gamma", description="c", content="c", w=12, h=6),
        TextPanel(key="delta", title="Delta", description="d", content="d", w=24, h=3),
    ]


def _ids(panels) -> dict[str, int]:
    ctx = Ctx(load_catalog("default"), 41)
    built = ctx.dashboard("idtest", "Id test", "Ids by key", panels)
    return {p.key: p.id for p in built.dashboard.panels}


def test_panel_ids_depend_only_on_the_key():
    """"Panel ids derived from a stable panel key: unchanged when other panels are added, removed
    or reordered"."""
    full = _ids(_panels())
    assert len(set(full.values())) == len(full) and all(isinstance(i, int) and i > 0 for i in full.values())
    reordered = _ids(list(reversed(_panels())))
    subset = _ids([p for p in _panels() if p.key in ("delta", "alpha")])
    added = _ids(_panels() + [TextPanel(key="epsilon", title="E", description="e", content="e")])
    for variant in (reordered, subset, added):
        for key, pid in variant.items():
            if key in full:
                assert pid == full[key], key
    assert set(added) - set(full) == {"epsilon"}


def test_duplicate_panel_keys_are_refused():
    panels = _panels() + [TextPanel(key="alpha", title="Again", description="x", content="x")]
    with pytest.raises(ValueError, match="share the key 'alpha'"):
        _ids(panels)


@pytest.mark.parametrize("preset", PRESETS)
def test_real_dashboards_keep_their_panel_ids_when_a_stage_is_removed(preset):
    """Removing the last stage from a catalog keeps every remaining panel's id (same key, same id)."""
    full = build_artifacts(load_catalog(preset)).artifacts
    doc = yaml.safe_load(load_catalog_text(preset))
    if len(doc["stages"]) < 2:
        pytest.fail(f"{preset} has one stage")
    doc["stages"] = doc["stages"][:-1]
    try:
        smaller = build_artifacts(parse_catalog(yaml.safe_dump(doc, sort_keys=False), "x.yaml")).artifacts
    except Exception as exc:  # the last stage may be one others depend on (e.g. barge-in by id)
        pytest.fail(f"{preset} without its last stage does not build: {exc}")
    before = {(rel, p["title"]): p["id"] for rel, d in dashboards_of(full).items() for p in d["panels"]}
    after = {(rel, p["title"]): p["id"] for rel, d in dashboards_of(smaller).items() for p in d["panels"]}
    common = set(before) & set(after)
    assert common
    assert {k: before[k] for k in common} == {k: after[k] for k in common}


# 7. Atomic writes ---------------------------------------------------------------------------------

def _debris(out: Path) -> list[str]:
    return [p.name for p in out.iterdir() if p.name.startswith(".dashgen-build-")]


@pytest.mark.parametrize("fail_at", [1, 7, "swap"])
def test_failed_build_leaves_previous_output_untouched(tmp_path, monkeypatch, fail_at):
    """"Atomic: build writes into a temporary directory and swaps it in; on any error the previous
    output is untouched"."""
    out = tmp_path / "out"
    write_output(build_artifacts(load_catalog("default")).artifacts, out)
    (out / "unrelated.txt").write_text("keep me")
    before = tree(out)
    # the new build differs (another threshold), so a half-written swap would show
    changed = build_artifacts(parse_catalog(BASE.replace("value: 350", "value: 360"), "x.yaml")).artifacts
    assert any(changed[k].encode() != before.get(k) for k in changed)

    real_open, real_replace = open, os.replace
    calls = {"open": 0, "replace": 0}

    def failing_open(file, mode="r", *args, **kwargs):
        if "w" in mode and ".dashgen-build-" in str(file):
            calls["open"] += 1
            if calls["open"] == fail_at:
                raise OSError(28, "No space left on device")
        return real_open(file, mode, *args, **kwargs)

    def failing_replace(src, dst):
        calls["replace"] += 1
        if fail_at == "swap" and calls["replace"] == 3:  # dashboards swapped in, alerts not yet
            raise OSError(5, "Input/output error")
        return real_replace(src, dst)

    monkeypatch.setattr("builtins.open", failing_open)
    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError):
        write_output(changed, out)
    monkeypatch.undo()
    assert tree(out) == before
    assert _debris(out) == []


def test_cli_build_failure_midway_keeps_old_output(tmp_path, monkeypatch):
    """A definition raising in the middle of a build: exit non-zero, old files byte-identical."""
    out = tmp_path / "out"
    assert run_dashgen("build", "-c", "default", "-o", str(out), cwd=tmp_path).returncode == 0
    before = tree(out)
    script = ("import dashgen.build as b\n"
              "orig = b.canonical_json\n"
              "n = [0]\n"
              "def boom(d):\n"
              "    n[0] += 1\n"
              "    if n[0] == 2: raise RuntimeError('definition failed')\n"
              "    return orig(d)\n"
              "b.canonical_json = boom\n"
              "from dashgen.cli import main; main()\n")
    import subprocess
    import sys
    proc = subprocess.run([sys.executable, "-c", script, "build", "-c", "default", "-o", str(out)], capture_output=True, text=True,
                          cwd=tmp_path)
    assert proc.returncode != 0 and "definition failed" in proc.stderr
    assert tree(out) == before and _debris(out) == []


# 8. --check -------------------------------------------------------------------------------------

def test_check_reports_stale_missing_and_extra(tmp_path):
    """"--check: exit 1 listing stale, missing and extra files when the output on disk differs
    from a fresh build; exit 0 otherwise"."""
    out = tmp_path / "out"
    assert run_dashgen("build", "-c", "default", "-o", "out", cwd=tmp_path).returncode == 0
    ok = run_dashgen("build", "-c", "default", "-o", "out", "--check", cwd=tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    files = sorted(p for p in out.rglob("*.json"))
    stale, missing = files[0], files[1]
    stale.write_text(stale.read_text().replace('"title"', '"title" ', 1))
    missing.unlink()
    (out / "dashboards" / "extra.json").write_text("{}\n")
    before = tree(out)
    proc = run_dashgen("build", "-c", "default", "-o", "out", "--check", cwd=tmp_path)
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert f"stale: {stale.relative_to(out).as_posix()}" in lines
    assert f"missing: {missing.relative_to(out).as_posix()}" in lines
    assert "extra: dashboards/extra.json" in lines
    assert len(lines) == 3, lines
    assert "1 stale, 1 missing, 1 extra" in proc.stderr
    assert tree(out) == before  # --check writes nothing


def test_check_result_in_process(tmp_path):
    arts = build_artifacts(load_catalog("default")).artifacts
    assert check_output(arts, tmp_path).missing == sorted(arts)
    write_output(arts, tmp_path)
    assert check_output(arts, tmp_path).ok


# 10. The first real dashboard ---------------------------------------------------------------------

def _overview(artifacts: dict[str, str]) -> dict:
    found = [d for d in dashboards_of(artifacts).values() if d["title"] == "Voice pipeline overview"]
    assert len(found) == 1
    return found[0]


def _first_byte_panel(artifacts):
    panels = [p for p in _overview(artifacts)["panels"] if p["title"] == "First byte p95 by stage"]
    assert len(panels) == 1
    return panels[0]


def test_first_byte_p95_by_stage_panel(builds):
    """"Voice pipeline overview" has a panel "First byte p95 by stage" with a Tempo target whose
    query contains `{ span.audio.stage != "" && span.audio.first_byte_ms >= 0` …
    `| quantile_over_time(span.audio.first_byte_ms, 0.95) by (span.audio.stage)`, unit ms,
    threshold steps from the catalog, one coherent set (severity never decreases with the value)."""
    panel = _first_byte_panel(builds["default"])
    (target,) = [t for t in panel["targets"] if t["datasource"]["type"] == "tempo"]
    q = target["query"]
    assert q.startswith('{ span.audio.stage != "" && span.audio.first_byte_ms >= 0'), q
    assert q.endswith("| quantile_over_time(span.audio.first_byte_ms, 0.95) by (span.audio.stage)"), q
    assert panel["fieldConfig"]["defaults"]["unit"] == "ms"
    steps = panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
    catalog = load_catalog("default")
    limits = sorted({t.value for s in catalog.stages for m in s.measurements if m.id == "first_byte"
                     for t in m.thresholds})
    assert limits == [150, 350, 600]  # ASR page, TTS page, LLM ticket (voice.paging: the catalog's severities)
    # both page lines red; the 600 ms ticket line would paint values above it orange, less severe than red
    assert [(s["value"], s["color"]) for s in steps] == [(None, "green"), (150, "red"), (350, "red")]


def test_first_byte_query_takes_attribute_names_from_the_catalog():
    """"attribute names taken from the catalog (a catalog copy with renamed attributes, e.g.
    voice.stage/voice.fb_ms, yields those names in the query)"."""
    text = BASE.replace("audio.first_byte_ms", "voice.fb_ms").replace("stage_attribute: audio.stage",
                                                                      "stage_attribute: voice.stage")
    arts = build_artifacts(parse_catalog(text, "renamed.yaml")).artifacts
    q = _first_byte_panel(arts)["targets"][0]["query"]
    assert q.startswith('{ span.voice.stage != "" && span.voice.fb_ms >= 0'), q
    assert q.endswith("| quantile_over_time(span.voice.fb_ms, 0.95) by (span.voice.stage)"), q
    assert "audio.first_byte_ms" not in q and "audio.stage" not in q
    assert_traceql_parses([q])


def test_first_byte_threshold_steps_follow_the_catalog():
    """"change a threshold in a copy → the step changes"."""
    assert "value: 350" in BASE
    arts = build_artifacts(parse_catalog(BASE.replace("value: 350", "value: 420"), "t.yaml")).artifacts
    values = [s["value"] for s in _first_byte_panel(arts)["fieldConfig"]["defaults"]["thresholds"]["steps"]]
    assert 420 in values and 350 not in values


@pytest.mark.parametrize("preset", PRESETS)
def test_every_traceql_query_parses_with_grafanas_grammar(builds, preset):
    """"every TraceQL query in every generated dashboard parses with Grafana's grammar"."""
    queries = [t["query"] for d in dashboards_of(builds[preset]).values() for p in d["panels"]
               for t in p.get("targets", []) if (t.get("datasource") or {}).get("type") == "tempo"
               and p["type"] != "traces"]  # a trace panel's query is a trace id, not TraceQL
    assert queries
    assert_traceql_parses(queries)
