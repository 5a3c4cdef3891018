"""Layers import downward only (issue 20): an AST check of every import in dashgen/.

The layer order enforced here, lowest first (README.md, "Repository layout", says the same):

    errors, canonical, templating, records, the package root (its version)
    < catalog < voice < queries < alerts | collector < dashboards < project < api < artifacts
    < drawn < lint < definitions < build | gitsync < pipeline < review < grafana
    < telemetry | sandbox | importer < cli

A module may import its own package and any lower layer, never a higher one nor another package
of its own layer (alerts and collector never read each other). Every import counts: at the top of
a module, inside a function, under ``TYPE_CHECKING``. Three rules of the issue are also checked by
name: catalog never imports alerts; artifacts never imports dashboards; dashboards and telemetry
never import each other.

Where the order differs from a flat "dashboards | alerts | collector < build/artifacts < lint <
grafana < review/telemetry": the alerts and SLO dashboards are built from the alert rule model
(dashboards above alerts), build runs lint's gate and the user definitions it runs are linted
(lint below build), and push words a drift refusal in diff's words (review below grafana).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conftest import REPO

PACKAGE = REPO / "dashgen"
LAYERS = [
    {"errors", "canonical", "templating", "records", "__init__"},
    {"catalog"},
    {"voice"},
    {"queries"},
    {"alerts", "collector"},
    {"dashboards"},
    {"project"},
    {"api"},
    {"artifacts"},
    {"drawn"},
    {"lint"},
    {"definitions"},
    {"build", "gitsync"},
    {"pipeline"},
    {"review"},
    {"grafana"},
    {"telemetry", "sandbox", "importer"},
    {"cli"},
]
LEVEL = {unit: i for i, layer in enumerate(LAYERS) for unit in layer}
NEVER = [("catalog", "alerts"), ("artifacts", "dashboards"), ("dashboards", "telemetry"), ("telemetry", "dashboards")]


def unit_of(module: str) -> str:
    """``dashgen.alerts.slo`` -> ``alerts``; ``dashgen`` or ``dashgen.__version__`` -> the root."""
    parts = module.split(".")
    if len(parts) == 1 or not ((PACKAGE / parts[1]).is_dir() or (PACKAGE / f"{parts[1]}.py").is_file()):
        return "__init__"  # the package root, or a name it defines (__version__, DISTRIBUTION)
    return parts[1].removesuffix(".py")


def imports_of(source: str, module: str, is_package: bool) -> list[tuple[int, str]]:
    """``(line, imported dashgen module)`` for every import in ``source`` (relative ones resolved)."""
    package = module if is_package else module.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # ``from . import x`` / ``from .. import voice``: the names may be modules themselves
            out += [(node.lineno, target)] if node.module else [(node.lineno, f"{target}.{a.name}") for a in node.names]
    return [(line, t) for line, t in out if t == "dashgen" or t.startswith("dashgen.")]


def problems_of(path: Path, source: str | None = None) -> list[str]:
    rel = path.relative_to(REPO).with_suffix("")
    is_package = rel.name == "__init__"
    module = ".".join(rel.parts[:-1] if is_package else rel.parts)
    here = unit_of(module) if module != "dashgen" else "__init__"
    out = []
    for line, target in imports_of(source if source is not None else path.read_text(encoding="utf-8"),
                                   module, is_package):
        there = unit_of(target)
        if there == here:
            continue
        where = f"{path.relative_to(REPO)}:{line}: {here} imports {there}"
        if (here, there) in NEVER:
            out.append(f"{where}, which it must never import")
        elif there not in LEVEL or here not in LEVEL:
            out.append(f"{where}: add {there if there not in LEVEL else here} to a layer in tests/test_layering.py")
        elif LEVEL[there] >= LEVEL[here]:
            out.append(f"{where} ({'the same layer' if LEVEL[there] == LEVEL[here] else 'a higher layer'})")
    return out


def test_every_package_and_module_has_a_layer():
    units = {p.name.removesuffix(".py") for p in PACKAGE.iterdir()
             if (p.is_dir() and (p / "__init__.py").exists()) or (p.suffix == ".py")}
    assert units == set(LEVEL), f"layers to assign: {sorted(units - set(LEVEL))}; gone: {sorted(set(LEVEL) - units)}"


def test_layers_import_downward_only():
    problems = [p for path in sorted(PACKAGE.rglob("*.py")) for p in problems_of(path)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path, source, expected", [
    ("dashgen/catalog/model.py", "from ..alerts.slo import x\n", "catalog imports alerts, which it must never import"),
    ("dashgen/artifacts.py", "from .dashboards.model import NULL\n", "artifacts imports dashboards, which it must never"),
    ("dashgen/dashboards/session.py", "def f():\n    from ..telemetry import roles\n", "dashboards imports telemetry"),
    ("dashgen/telemetry/verify.py", "import dashgen.dashboards.barge_in\n", "telemetry imports dashboards"),
    ("dashgen/voice/roles.py", "from ..queries import promql\n", "voice imports queries (a higher layer)"),
    ("dashgen/alerts/slo.py", "from ..collector import bridge\n", "alerts imports collector (the same layer)"),
    ("dashgen/catalog/load.py", "from .. import voice\n", "catalog imports voice (a higher layer)"),
])
def test_the_check_finds_an_upward_import(path, source, expected):
    found = problems_of(REPO / path, source)
    assert any(expected in p for p in found), found
    assert problems_of(REPO / path, "from __future__ import annotations\nimport json\n") == []
