"""Build artifacts: their canonical bytes and the output tree that holds them.

Every built file passes through here, and nothing else reads or writes the tree:

* **Canonical JSON and YAML** (``dashgen.canonical``, re-exported here): sorted keys, 2-space
  indent, trailing newline, no stray nulls; the same definitions always give the same bytes.
* **The output tree**: ``dashboards/`` and ``alerts/`` under a directory, as the
  ``{posix relative path: text}`` map that build, lint, diff, preview, plan and git refs share.
  :func:`kind_of` names what a path holds; :func:`read_output` reads a tree,
  :func:`from_blobs` turns raw file bytes from elsewhere (git) into the same map,
  :func:`write_output` swaps a new tree in atomically, :func:`check_output` is
  ``build --check``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath
from typing import Iterable

from .records import dataclass  # dataclasses' decorator without generated code (start-up)
from .canonical import NULL, canonical_json, canonical_yaml, parse, to_plain  # noqa: F401 (re-exported)
from .errors import InputError

# Keys grafanalib emits that Grafana's current dashboard schema rejects.
LEGACY_PANEL_KEYS = frozenset({"span", "height", "error", "minSpan", "editable", "thresholds", "thresholdType",
                               "repeatDirection", "maxPerRow", "cacheTimeout", "hideTimeOverride", "timeFrom",
                               "timeShift", "transparent"})
# Of those, the ones Grafana's current panel model still has (``Panel`` in grafana/grafana
# packages/grafana-schema/src/raw/dashboard/x/dashboard_types.gen.ts: relative time, time shift,
# their label, the query cache, repeat layout, no background). grafanalib writes them at an empty
# default, which says nothing; set to a value (an imported dashboard's "timeFrom": "1m"), they are
# Grafana's own query options, not legacy.
PANEL_OPTION_KEYS = frozenset({"cacheTimeout", "hideTimeOverride", "timeFrom", "timeShift", "maxPerRow",
                               "repeatDirection", "transparent"})


def legacy_panel_keys(panel: dict) -> list[str]:
    """The keys of ``panel`` that Grafana's current dashboard model no longer has (or only at an empty
    default grafanalib writes), sorted."""
    return sorted(k for k in LEGACY_PANEL_KEYS & set(panel)
                  if k not in PANEL_OPTION_KEYS or panel[k] in (None, "", False))


# -------------------------------------------------------------------------------------------------
# The output tree: paths

OUTPUT_DIRS = ("dashboards", "alerts", "collector")  # collector/: the signaltometrics bridge (dashgen.collector)
MANIFEST = "dashboards/manifest.yaml"

# What a path of the tree holds (``kind_of``); the diff's section kinds use the same names.
ROUTING = "routing"  # alerts/routing/: who is notified, one notification per stage (alerts/routing.py)
DASHBOARD, GRAFANA_RULES, PROVISIONING, PROMETHEUS_RULES, COLLECTOR = "dashboard", "grafana-rules", "provisioning", \
    "prometheus-rules", "collector"
_YAML = (".yaml", ".yml")
# (kind, directories before the file name, suffixes): the layout ``build`` writes.
_LAYOUT = (
    (DASHBOARD, ("dashboards", None), (".json",)),  # dashboards/<folder uid>/<uid>.json
    (GRAFANA_RULES, ("alerts", "grafana", None), (".json",)),  # alerts/grafana/<folder uid>/<group>.json
    (PROVISIONING, ("alerts", "provisioning"), _YAML),  # alerts/provisioning/<group>.yaml
    (PROMETHEUS_RULES, ("alerts", "prometheus"), _YAML),  # alerts/prometheus/<group>.yaml
    (COLLECTOR, ("collector",), _YAML + (".md",)),  # collector/signaltometrics.yaml and its README
    (ROUTING, ("alerts", "routing"), _YAML),  # alerts/routing/alertmanager.yaml, grafana-notification-policy.yaml
)


def dashboard_path(folder_uid: str, uid: str) -> str:
    return f"dashboards/{folder_uid}/{uid}.json"


def kind_of(path: str) -> str | None:
    """Which artifact ``path`` is, by where it sits (None: the manifest or an unknown file).

    A folder level is any one name (``None`` above), so a file one level too deep or too
    shallow is not mistaken for a dashboard or a rule group.
    """
    *dirs, name = path.split("/")
    for kind, layout, suffixes in _LAYOUT:
        if name.endswith(suffixes) and len(dirs) == len(layout) and \
                all(want is None or want == got for want, got in zip(layout, dirs)):
            return kind
    return None


def of_kind(files: dict[str, str], kind: str) -> list[tuple[str, str]]:
    """``(path, text)`` of every artifact of ``kind`` in ``files``, in directory-tree order."""
    return sorted(((rel, text) for rel, text in files.items() if kind_of(rel) == kind),
                  key=lambda item: item[0].split("/"))


def folder_of(path: str) -> str:
    """The folder uid of a dashboard or Grafana rule-group path (its directory name)."""
    return PurePosixPath(path).parent.name


# -------------------------------------------------------------------------------------------------
# The output tree: read

def _files_under(out_dir: Path, tops: Iterable[str] = OUTPUT_DIRS) -> dict[str, Path]:
    """Every file under ``out_dir``'s output directories (``tops``), by posix path relative to ``out_dir``."""
    found: dict[str, Path] = {}
    for top in tops:
        for here, _dirs, names in os.walk(out_dir / top):  # os.walk: a tenth of rglob's cost
            rel = Path(here).relative_to(out_dir).as_posix()
            for name in names:
                path = Path(here, name)
                if path.is_file():  # not a dangling symlink
                    found[f"{rel}/{name}"] = path
    return found


def from_blobs(blobs: Iterable[tuple[str, bytes]], where: str) -> dict[str, str]:
    """``{path: text}`` sorted by path, from raw file contents; ``where`` locates a bad file.

    The bytes are decoded as they are (no newline translation), so the text is what
    ``check_output`` compares and what git stores. Built files are UTF-8: anything else is
    one located line, not a replacement character in a diff.
    """
    files: dict[str, str] = {}
    for rel, data in blobs:
        try:
            files[rel] = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"{where}{rel}: not UTF-8 text (byte {exc.start})") from None
    return dict(sorted(files.items()))


def read_output(out_dir: str | Path) -> dict[str, str]:
    """The build output under ``out_dir`` (``dashboards/``, ``alerts/``) as ``{path: text}``."""
    out_dir = Path(out_dir)

    def blobs():
        for rel, path in _files_under(out_dir).items():
            try:
                yield rel, path.read_bytes()
            except OSError as exc:
                raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None

    return from_blobs(blobs(), f"{out_dir}/")


# -------------------------------------------------------------------------------------------------
# The output tree: check and write

@dataclass(frozen=True)
class CheckResult:
    stale: list[str]
    missing: list[str]
    extra: list[str]

    @property
    def ok(self) -> bool:
        return not (self.stale or self.missing or self.extra)


def check_output(artifacts: dict[str, str], out_dir: Path, tops: Iterable[str] = OUTPUT_DIRS) -> CheckResult:
    """``build --check``: which files under ``out_dir`` (its ``tops`` directories) differ from
    ``artifacts``, byte for byte."""
    on_disk = _files_under(Path(out_dir), tops)
    stale, missing = [], []
    for rel, content in artifacts.items():
        path = on_disk.get(rel)
        if path is None:
            missing.append(rel)
        elif path.read_bytes() != content.encode("utf-8"):
            stale.append(rel)
    extra = sorted(set(on_disk) - set(artifacts))
    return CheckResult(stale, missing, extra)


def write_output(artifacts: dict[str, str], out_dir: Path, tops: Iterable[str] = OUTPUT_DIRS) -> None:
    """Write ``artifacts`` under ``out_dir``, replacing ``dashboards/`` and ``alerts/`` whole
    (``tops``: the top-level directories replaced; ``build --git-sync`` replaces its folders).

    Everything is written to a temporary directory beside the output first; then each output
    directory is swapped in with renames (``os.replace``, atomic within one file system). If
    anything fails, the previous output is restored, so an error never leaves a half-written tree.
    """
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{out_dir}: cannot create the output directory: {exc.strerror}") from None
    try:
        staging = Path(tempfile.mkdtemp(prefix=".dashgen-build-", dir=out_dir))
    except OSError as exc:
        raise InputError(f"{out_dir}: cannot write there: {exc.strerror}") from None
    old = staging / ".old"
    moved_away: list[str] = []
    moved_in: list[str] = []
    try:
        made: set[Path] = set()  # each folder once, not once per file
        for rel, content in artifacts.items():
            target = staging / rel
            if target.parent not in made:
                target.parent.mkdir(parents=True, exist_ok=True)
                made.add(target.parent)
            with open(target, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(content)
        tops = tuple(tops)
        for top in tops:
            (staging / top).mkdir(exist_ok=True)
        old.mkdir()
        for top in tops:
            if (out_dir / top).exists():
                os.replace(out_dir / top, old / top)
                moved_away.append(top)
            os.replace(staging / top, out_dir / top)
            moved_in.append(top)
    except BaseException:
        # Drop what we moved in, put back what we moved away.
        for top in moved_in:
            shutil.rmtree(out_dir / top, ignore_errors=True)
        for top in moved_away:
            os.replace(old / top, out_dir / top)
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(staging, ignore_errors=True)
