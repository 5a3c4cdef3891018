"""The project speaks for itself, and what its docs quote is true (issue 23 section 5).

Every tracked text file (package, docs, tests, templates, examples, committed output) is free of
machine paths, of references to files outside the repository, and of "the seed" (users have no
seed article: the docs describe the practice itself). The counts docs/extending.md quotes are
those the example really builds; the docs quote no timings (speed figures live in bench/).
"""

from __future__ import annotations

import re
import subprocess

from conftest import REPO, run_dashgen

SELF = "tests/test_docs_truth.py"
FORBIDDEN = {
    "a machine path": re.compile("|".join(re.escape(p) for p in ("/" + "work/", "/" + "home/", "/" + "Users/",
                                                                 "/" + "root/", "C:" + "\\Users"))),
    "a folder beside the checkout": re.compile(re.escape(".." + "/shared") + "|" + re.escape("shared" + "/grafana-schemas")),
    "a document outside the repository": re.compile(re.escape("grafana-" + "apis.md") + "|" + re.escape("grafana-" + "http-api.md")),
    '"the seed" (describe the practice itself)': re.compile(r"\bthe " + "seed\\b|\\bseed" + "'s\\b", re.I),
}
# Mentions still waiting for a change that removes them (none left: the schema tests get Grafana's
# schemas from its npm packages since issue 20 section 5); an entry whose file lost the mention fails.
PENDING: set[tuple[str, str]] = set()


def tracked_text_files() -> dict[str, str]:
    names = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout.split(b"\0")
    out = {}
    for raw in filter(None, names):
        name = raw.decode()
        path = REPO / name
        if not path.is_file() or name in ("LICENSE", SELF):  # this file names the patterns it forbids
            continue
        data = path.read_bytes()
        if b"\0" in data[:8192]:  # images and other binaries
            continue
        out[name] = data.decode("utf-8", "replace")
    return out


def test_nothing_points_outside_the_repository_or_at_the_seed():
    files = tracked_text_files()
    assert "dashgen/sandbox/emulator.py" in files and "docs/push.md" in files  # the scan sees what it must
    found = []
    for name, text in files.items():
        for what, pattern in FORBIDDEN.items():
            if (name, what) in PENDING:
                continue
            for m in pattern.finditer(text):
                line = text.count("\n", 0, m.start()) + 1
                found.append(f"{name}:{line}: {what}: {text.splitlines()[line - 1].strip()[:100]}")
    assert found == []


def test_the_pending_exemptions_are_still_needed():
    """An exemption whose file no longer has the mention must leave PENDING (this test then fails)."""
    files = tracked_text_files()
    stale = [(name, what) for name, what in PENDING if not FORBIDDEN[what].search(files.get(name, ""))]
    assert stale == []


def test_the_forbidden_patterns_catch_what_they_name():
    assert FORBIDDEN["a machine path"].search("see " + "/" + "work/shared/docs/x.md")
    assert FORBIDDEN["a folder beside the checkout"].search("``" + ".." + "/shared/grafana-schemas``")
    assert FORBIDDEN['"the seed" (describe the practice itself)'].search("The " + "seed's headline number")
    assert not FORBIDDEN['"the seed" (describe the practice itself)'].search("simulate --seed 7: the seeded RNG")


def test_extending_quotes_the_dashboard_counts_the_example_builds(tmp_path):
    doc = (REPO / "docs" / "extending.md").read_text()
    m = re.search(r"dashgen build -c examples/catalog\.yaml .*# (\d+) dashboards: the (\d+) generated, "
                  r"voice-llm-providers, and the grafanalib one", doc)
    assert m, "docs/extending.md no longer quotes the example's counts: drop this test with the quote"
    quoted_total, quoted_generated = int(m.group(1)), int(m.group(2))

    example = run_dashgen("build", "-c", "examples/catalog.yaml", "-o", str(tmp_path / "example"), cwd=REPO)
    assert example.returncode == 0, example.stderr
    built = sorted(p.stem for p in (tmp_path / "example" / "dashboards").rglob("*.json"))
    own = [uid for uid in built if uid.endswith(("-llm-providers", "-grafanalib"))]
    assert len(own) == 2, built
    assert (quoted_total, quoted_generated) == (len(built), len(built) - len(own))


def test_the_docs_quote_no_timings():
    """A timing in prose goes stale with the machine; bench/ measures and prints them instead."""
    timing = re.compile(r"\b(?:take|takes|took|in) (?:about|around|roughly|~) ?\d+(?:\.\d+)? ?(?:s|ms|seconds|minutes)\b")
    found = [f"{p.relative_to(REPO)}: {m.group(0)}" for p in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
             for m in timing.finditer(p.read_text())]
    assert found == []
