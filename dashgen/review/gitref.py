"""The base of ``dashgen diff --base REF``: the build output as committed at a git ref.

The committed ``dashboards/`` and ``alerts/`` at REF are the base build (read with
``git ls-tree`` + ``git cat-file --batch``, no checkout). When REF has no committed output,
the base is built: REF is checked out in a temporary ``git worktree`` and its catalog
built there, with REF's own dashgen when the repository is dashgen itself (so a change to
the definitions is part of the diff), else with this dashgen. Every git failure becomes
one line (:class:`InputError`, exit 2).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..artifacts import OUTPUT_DIRS, from_blobs, read_output
from ..catalog import PRESET_NAMES
from ..errors import InputError


@dataclass(frozen=True)
class BaseOutput:
    artifacts: dict[str, str]
    label: str  # e.g. "origin/main (3f2a9c1)"
    how: str  # "committed" | "built"


def _git(args: list[str], cwd: Path, input: bytes | None = None) -> bytes:
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, input=input, capture_output=True, check=False)
    except FileNotFoundError:
        raise InputError("git is not installed (needed for --base; use --against DIR instead)") from None
    except NotADirectoryError:
        raise InputError(f"{cwd}: not a directory") from None
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise _GitFailed(err[-1] if err else f"git {' '.join(args)} failed with exit code {proc.returncode}")
    return proc.stdout


class _GitFailed(Exception):
    pass


def repo_root(cwd: Path) -> Path:
    cwd = Path(cwd)
    if not cwd.is_dir():
        raise InputError(f"{cwd}: no such directory")
    try:
        return Path(_git(["rev-parse", "--show-toplevel"], cwd).decode().strip())
    except _GitFailed:
        raise InputError(f"{cwd.resolve()}: not inside a git repository (--base needs one; use --against DIR)") from None


def resolve(ref: str, cwd: Path) -> str:
    """The commit id of ``ref``; an unknown ref is one line, exit 2."""
    if not ref or ref.startswith("-"):
        raise InputError(f"--base {ref!r}: not a git ref")
    try:
        return _git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"], cwd).decode().strip()
    except _GitFailed:
        raise InputError(f"--base {ref}: unknown git ref (not a branch, tag or commit here; "
                         f"for a remote branch run git fetch first)") from None


def committed_output(commit: str, cwd: Path) -> dict[str, str]:
    """``dashboards/`` and ``alerts/`` under ``cwd`` as committed at ``commit``: {path relative to cwd: text}."""
    listing = _git(["ls-tree", "-r", "-z", commit, "--", *OUTPUT_DIRS], cwd)
    entries: list[tuple[str, str]] = []
    for item in listing.split(b"\0"):
        if not item:
            continue
        meta, _, path = item.partition(b"\t")
        mode, kind, sha = meta.decode().split()
        if kind != "blob" or mode == "120000":  # no submodules, no symlinks
            continue
        entries.append((path.decode("utf-8", "surrogateescape"), sha))
    if not entries:
        return {}
    out = _git(["cat-file", "--batch"], cwd, input="".join(f"{sha}\n" for _, sha in entries).encode())

    def blobs():
        pos = 0
        for path, _sha in entries:
            header_end = out.index(b"\n", pos)
            size = int(out[pos:header_end].split()[2])
            start = header_end + 1
            yield Path(path).as_posix(), out[start:start + size]
            pos = start + size + 1

    return from_blobs(blobs(), f"{commit[:7]}:")


def build_at(commit: str, label: str, cwd: Path, catalog_ref: str | None, schema_version: int) -> dict[str, str]:
    """Build ``commit``'s catalog in a temporary worktree (REF's own dashgen when it has one)."""
    root = repo_root(cwd)
    sub = Path(os.path.relpath(Path(cwd).resolve(), root.resolve()))
    tmp = Path(tempfile.mkdtemp(prefix="dashgen-base-"))
    tree = tmp / "tree"
    try:
        try:
            _git(["worktree", "add", "--detach", "--quiet", str(tree), commit], root)
        except _GitFailed as exc:
            raise InputError(f"--base {label}: cannot check it out in a temporary worktree: {exc}") from None
        work = tree / sub
        ref = catalog_ref
        if ref and ref not in PRESET_NAMES:
            path = Path(ref)
            if path.is_absolute():
                try:
                    path = work / path.resolve().relative_to(Path(cwd).resolve())
                except ValueError:
                    pass  # a catalog outside the repository: the same file for both sides
            else:
                path = work / path
            if not path.exists():
                raise InputError(f"--base {label}: the catalog {ref} does not exist at that ref")
            ref = str(path)
        if (tree / "dashgen" / "__init__.py").is_file():
            return _own_build(tree, work if work.is_dir() else tree, label, ref, schema_version)
        from .. import pipeline
        from ..project import find_project

        if ref is None:  # the revision's own project file says which catalog it builds
            project = find_project(work) if work.is_dir() else None
            if project is None or not project.catalog:
                raise InputError(f"--base {label}: {pipeline.NO_CATALOG}")
            ref = project.catalog
        inputs = pipeline.Inputs(ref, "-c", work, schema_version, ())
        # the base shows what that ref built, even what today's gate refuses
        return pipeline.run(inputs, gate=False).artifacts
    finally:
        try:
            _git(["worktree", "remove", "--force", str(tree)], root)
        except (_GitFailed, InputError):
            pass
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            _git(["worktree", "prune"], root)
        except (_GitFailed, InputError):
            pass


def _own_build(tree: Path, work: Path, label: str, ref: str | None, schema_version: int) -> dict[str, str]:
    """Build with the dashgen of the checked-out revision ``tree`` (so a change to dashgen's own
    dashboards is part of the diff), through that revision's entry point: ``python -m
    dashgen.pipeline``, which prints the build as JSON; a revision from before it had one is built
    with its ``dashgen build --out DIR`` (the console script's ``dashgen.cli:main``)."""
    env = dict(os.environ, PYTHONPATH=str(tree) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("DASHGEN_CATALOG", None)
    catalog = ["-c", ref] if ref else []
    if (tree / "dashgen" / "pipeline.py").is_file():
        args = ["-m", "dashgen.pipeline", *catalog, "--schema-version", str(schema_version), "--no-gate"]
        proc = subprocess.run([sys.executable, *args], cwd=work, env=env, capture_output=True, check=False)
        _refuse_failed(proc, label)
        return dict(sorted(json.loads(proc.stdout).items()))
    with tempfile.TemporaryDirectory(prefix="dashgen-base-out-") as out:
        entry = "import sys; from dashgen.cli import main; sys.exit(main())"  # what pip's console script runs
        for version in (["--schema-version", str(schema_version)], []):  # [] for a dashgen before that flag
            proc = subprocess.run([sys.executable, "-c", entry, "build", *catalog, "--out", out, *version],
                                  cwd=work, env=env, capture_output=True, check=False)
            if proc.returncode != 2 or b"--schema-version" not in proc.stderr:
                break
        _refuse_failed(proc, label)
        return read_output(out)


def _refuse_failed(proc: subprocess.CompletedProcess, label: str) -> None:
    if proc.returncode != 0:
        lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise InputError(f"--base {label}: building that ref failed: {lines[-1] if lines else proc.returncode}")


def base_output(ref: str, cwd: Path, catalog_ref: str | None, schema_version: int,
                build_if_missing: bool = True) -> BaseOutput:
    """The base build at ``ref``: its committed output, else (optionally) a build of it."""
    cwd = Path(cwd)
    repo_root(cwd)
    commit = resolve(ref, cwd)
    label = f"{ref} ({commit[:7]})" if not commit.startswith(ref) else commit[:7]
    try:
        files = committed_output(commit, cwd)
    except _GitFailed as exc:
        raise InputError(f"--base {ref}: cannot read its committed output: {exc}") from None
    if files:
        return BaseOutput(files, label, "committed")
    if not build_if_missing:
        raise InputError(f"--base {ref}: no committed dashboards/ or alerts/ at that ref")
    return BaseOutput(build_at(commit, label, cwd, catalog_ref, schema_version), label, "built")
