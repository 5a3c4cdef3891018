"""``dashgen import``: a Grafana dashboard (JSON file, export, v2 object or a live one) -> a
definition file on dashgen's kit that builds the same dashboard (docs/import.md).

    source.py   read and refuse: not a dashboard, unreadable JSON, an unknown schema (one line, exit 2)
    migrate.py  any schemaVersion -> the current model, as Grafana's own migrators do
    emit.py     panels, targets, variables -> the kit's typed classes; the rest kept verbatim
    code.py     Python source formatted as a person writes it
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..catalog.conventions import UID_RE
from ..catalog.model import Catalog
from .code import Code, fmt, lines_of
from .emit import DASHBOARD_KEYS_DROPPED, MAX_FUNCTION_LINES, MAX_PANEL_LINES, Emitter, slug
from .migrate import _l, _o, migrate

MIGRATION_NOTES = {
    "rows": "legacy rows became grid positions (and row panels when a row shows its title, is collapsed or "
            "repeats), as Grafana's own migration lays them out (upgradeToGridLayout, "
            "apps/dashboard/pkg/migration/schemaversion/v16.go)",
    "graph": "'graph' panels became 'timeseries' as Grafana's own migration does (graphToTimeseriesOptions, "
             "public/app/plugins/panel/timeseries/migrations.ts in grafana/grafana)",
    "singlestat": "'singlestat' panels became 'stat' (or 'gauge' when drawn as one) as Grafana's own migration "
                  "does (migrateFromAngularSinglestat, packages/grafana-ui/src/components/SingleStatShared/"
                  "SingleStatBaseOptions.ts; statPanelChangedHandler, public/app/plugins/panel/stat/StatMigrations.ts)",
    "table": "Angular tables (with 'styles') became the current table as Grafana's own migration does "
             "(tablePanelChangedHandler, public/app/plugins/panel/table/migrations.ts)",
}


@dataclass(frozen=True)
class Imported:
    source: str  # the definition file's text
    warnings: tuple[str, ...]
    panels: int
    variables: int


def import_dashboard(data: dict, catalog: Catalog, origin: str) -> Imported:
    """The definition file for classic dashboard ``data`` (read from ``origin``), on ``catalog``."""
    version = data.get("schemaVersion", 0)
    d, migrations, warnings = migrate(data)
    from .migrate import _Migration

    em = Emitter(catalog, _Migration(data).kinds)
    em.warnings += warnings
    module = _Module(em)
    sections = _sections(d.get("panels") or [])
    module.has_rows = any(row is not None for _title, row, _panels in sections)
    calls = []
    for title, row, panels in sections:
        calls += module.section(title, row, panels)
    variables = _variables(em, d)
    variable_functions = module.parts(em.function_name("variables"), "The dashboard's own variables.",
                                      variables) if variables else []
    header = _header(d, origin, version, migrations, em, module.notes)
    text = header + _imports(em) + "\n\n" + "".join(
        f"{name} = {value}\n\n\n" for name, value in em.constants.items()) + _dashboards_function(
        em, d, calls, variable_functions) + "".join("\n\n" + f for f in module.functions)
    for k in sorted(set(d) - DASHBOARD_KEYS_DROPPED - KNOWN_DASHBOARD_KEYS):
        if d[k] not in (None, "", [], {}, False):
            em.warnings.append(f"dashboard key {k!r} has no place in dashgen's dashboards and was left out")
    n_panels = sum(1 + len(p.get("panels") or []) for p in d.get("panels") or [])
    return Imported(text, tuple(em.warnings), n_panels, len(variables))


KNOWN_DASHBOARD_KEYS = frozenset({"uid", "title", "description", "tags", "panels", "templating", "annotations",
                                  "links", "refresh", "time", "timezone", "graphTooltip"})


def _sections(panels: list) -> list[tuple[str, dict | None, list]]:
    """(title, row panel or None, the panels under it): the panels before the first row, then each row."""
    out: list = [("", None, [])]
    for p in panels:
        if p.get("type") == "row":
            out.append((p.get("title") or "row", p, []))
        else:
            out[-1][2].append(p)
    return [s for s in out if s[1] is not None or s[2]]


class _Module:
    def __init__(self, em: Emitter):
        self.em = em
        self.functions: list[str] = []
        self.notes: list[str] = []
        self.has_rows = False

    def section(self, title: str, row: dict | None, panels: list) -> list[str]:
        """The function(s) of one section; returns the calls that splice them into the dashboard."""
        em = self.em
        name = em.function_name(title) if row is not None else ""
        blocks = []
        if row is not None:
            notes: list[str] = []
            call = em.panel(row, notes)
            children = row.get("panels") or []
            at = len(self.functions)
            if row.get("collapsed") and children:
                inner = self.parts(self.em.function_name(f"{name}_panels"),
                                   f"The panels of the collapsed row {title!r}.", [self.block(c) for c in children])
                call.kwargs["panels"] = Code(f"{inner[0]}(kit)" if len(inner) == 1 else
                                             "[" + ", ".join(f"*{n}(kit)" for n in inner) + "]", None)
            blocks.append(self.render(call, notes))
            inner_functions, self.functions[at:] = self.functions[at:], []
        else:
            inner_functions = []
        blocks += [self.block(p) for p in panels]
        what = f"The row {title!r}." if row is not None else \
            "The panels above the first row." if self.has_rows else "The dashboard's panels."
        titles = None if row is not None else [p.get("title") or "panels" for p in panels]
        names = self.parts(name, what, blocks, titles)
        self.functions += inner_functions  # a collapsed row's panels after the row
        return [f"*{n}(kit)" for n in names]

    def block(self, p: dict) -> str:
        notes: list[str] = []
        return self.render(self.em.panel(p, notes), notes)

    def render(self, call, notes: list[str]) -> str:
        """A panel call; when it is too long to read in one function, its biggest literals become
        module constants and its queries a function of their own."""
        text = fmt(call, 8)
        for k in ("extra", "overrides", "mappings", "fieldLinks", "transformations", "links", "targets"):
            if lines_of(text) <= MAX_PANEL_LINES:
                break
            value = call.kwargs.get(k)
            if k == "targets" and isinstance(value, list):
                blocks = ["        " + fmt(t, 8) + "," for t in value]
                names = self.parts(self.em.function_name(f"{call.kwargs['key']}_queries"),
                                   f"The queries of the panel {call.kwargs.get('title', '')!r}.", blocks)
                call.kwargs[k] = Code(f"{names[0]}(kit)" if len(names) == 1 else
                                      "[" + ", ".join(f"*{n}(kit)" for n in names) + "]", value)
            elif value is not None and not isinstance(value, Code):
                const = self.constant(f"{call.kwargs['key']}_{k}", value)
                call.kwargs[k] = Code(const, value)
            text = fmt(call, 8)
        return "".join(f"        # {n}\n" for n in notes) + "        " + text + ","

    def constant(self, key: str, value) -> str:
        name = re.sub(r"[^A-Z0-9]+", "_", key.upper()).strip("_")
        name = name if name[:1].isalpha() else f"PANEL_{name}"
        base, n = name, 2
        while name in self.em.constants:
            name, n = f"{base}_{n}", n + 1
        self.em.constants[name] = fmt(value, 0, len(name) + 3)
        return name

    def parts(self, name: str, doc: str, blocks: list[str], titles: list[str] | None = None) -> list[str]:
        """Functions each returning a run of ``blocks`` short enough to read: ``name``, ``name_2``...,
        or, for panels outside any row (``titles``), each named after its first panel."""
        groups: list[list[int]] = [[]]
        for i, b in enumerate(blocks):
            if groups[-1] and sum(lines_of(blocks[j]) for j in groups[-1]) + lines_of(b) > MAX_FUNCTION_LINES:
                groups.append([])
            groups[-1].append(i)
        names = []
        for i, indexes in enumerate(groups):
            group = [blocks[j] for j in indexes]
            if titles is not None:
                fname = self.em.function_name(titles[indexes[0]])
            else:
                fname = name if i == 0 else self.em.function_name(f"{name}_{i + 1}")
            names.append(fname)
            part = f" (part {i + 1} of {len(groups)})" if len(groups) > 1 else ""
            self.functions.append(self.function(fname, doc[:-1] + part + ".", group))
        return names

    def function(self, name: str, doc: str, blocks: list[str]) -> str:
        body = "\n".join(blocks)
        return (f"def {name}(kit: Kit) -> list:\n    {_docstring(doc)}\n"
                f"    return [\n{body}\n    ]\n")


def _docstring(doc: str) -> str:
    return '"""' + doc.replace("\\", "\\\\").replace('"""', '\\"\\"\\"') + '"""'


def _variables(em: Emitter, d: dict) -> list[str]:
    out = []
    for v in _l(_o(d.get("templating")).get("list")):
        if not isinstance(v, dict):
            continue
        if v.get("type") == "datasource" and v.get("query") in ("prometheus", "tempo"):
            em.warnings.append(f"variable {v.get('name')!r} (a {v['query']} datasource) became the catalog's "
                               f"${{{getattr(em.catalog, v['query']).variable}}}")
            continue
        notes: list[str] = []
        fields = {k: val for k, val in v.items() if k not in ("type", "name")}
        if "datasource" in fields:
            fields["datasource"] = em.datasource(fields["datasource"], notes)
        call = em.call("Variable", (v.get("type", "query"), v.get("name", "")), fields)
        out.append("".join(f"        # {n}\n" for n in notes) + "        " + fmt(call, 8) + ",")
    return out


def _dashboards_function(em: Emitter, d: dict, calls: list[str], variable_functions: list[str]) -> str:
    title = str(d.get("title") or "Imported dashboard")
    uid = d.get("uid") if isinstance(d.get("uid"), str) and UID_RE.fullmatch(d["uid"]) else None
    if d.get("uid") and uid is None:
        em.warnings.append(f"uid {d['uid']!r} is not 1-40 characters of [a-zA-Z0-9_-]: the dashboard takes "
                           f"the catalog's <uid_prefix>-<title slug> instead")
    key = slug(uid or title) or "imported"
    settings: dict = {}
    if uid:
        settings["uid"] = uid
    settings["links"] = [_ds_in(em, link) for link in _l(d.get("links"))]
    tags = [t for t in _l(d.get("tags")) if isinstance(t, str)]
    if tags:
        settings["tags"] = tags
    settings["refresh"] = d.get("refresh") or ""
    time = d.get("time") if isinstance(d.get("time"), dict) else {}
    settings["time_from"] = time.get("from", "now-6h")
    settings["time_to"] = time.get("to", "now")
    settings["timezone"] = d.get("timezone", "")
    annotations = [_ds_in(em, a) for a in _l(_o(d.get("annotations")).get("list"))
                   if isinstance(a, dict) and not a.get("builtIn")]
    if annotations:
        settings["annotations"] = annotations
    settings["graph_tooltip"] = d.get("graphTooltip", 0)
    panels = "[" + ", ".join(calls) + "]"
    args = [fmt(key), fmt(title), fmt(d.get("description") if isinstance(d.get("description"), str) else "")]
    body = ",\n".join([f"        {a}" for a in args] + [f"        {panels}" if len(panels) < 90 else
                                                         "        [\n" + "".join(f"            {c},\n" for c in calls)
                                                         + "        ]"])
    body += ",\n        variables=kit.datasource_variables(" + ", ".join(f"*{n}(kit)" for n in variable_functions) + "),\n"
    body += "".join(f"        {k}={fmt(v, 8, len(k) + 1)},\n" for k, v in settings.items())
    return (f"def dashboards(kit: Kit) -> list:\n    return [kit.dashboard(\n{body}    )]\n")


def _ds_in(em: Emitter, obj):
    if isinstance(obj, dict) and "datasource" in obj:
        return {**obj, "datasource": em.datasource(obj["datasource"], [])}
    return obj


def _imports(em: Emitter) -> str:
    names = sorted(em.used)
    line = "from dashgen.api import " + ", ".join(names)
    if len(line) <= 110:
        return line + "\n"
    return "from dashgen.api import (\n" + "".join(f"    {n},\n" for n in names) + ")\n"


def _header(d: dict, origin: str, version, migrations: list[str], em: Emitter, notes: list[str]) -> str:
    lines = [f"{d.get('title') or 'A dashboard'}: imported by `dashgen import` from {origin} (schemaVersion "
             f"{version}).", "",
             "Build it with `dashgen build --definitions <this file>`; edit it like any definition file",
             "(docs/extending.md). What the import did (docs/import.md):"]
    for m in migrations:
        lines.append(f"- {MIGRATION_NOTES[m]};")
    lines.append("- datasources of the catalog became its variables (kit.prometheus, kit.tempo); the others "
                 "stay as given, said in a comment;")
    lines.append("- what the kit's classes do not type is kept verbatim in `extra=` (never dropped).")
    wrapped = []
    for line in lines:
        wrapped += _wrap(line, 100)
    return '"""' + "\n".join(wrapped).replace("\\", "\\\\").replace('"""', "'''") + '\n"""\n\n'


def _wrap(text: str, width: int) -> list[str]:
    if len(text) <= width:
        return [text]
    out, line = [], ""
    indent = "  " if text.startswith("- ") else ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            out.append(line)
            line = indent + word
        else:
            line = f"{line} {word}" if line else word
    return out + [line]

