"""The current classic dashboard model -> a definition file on dashgen's kit (docs/import.md).

Each panel becomes the kit's typed class (``TimeSeriesPanel``, ``StatPanel``, ``TablePanel``,
``TextPanel``, ``HeatmapPanel``, ``Row``), or ``PluginPanel`` for a type dashgen has no class for.
The typed fields carry what they can (title, description, grid position, queries, unit, decimals,
min/max, thresholds, overrides, mappings...). Then the importer builds the panel the file will
build and compares it with the source: every key the typed fields did not reproduce is kept
verbatim in the panel's ``extra=`` (and said in a warning), so nothing is dropped.

Datasources: a reference to the catalog's Prometheus or Tempo (by name, uid or variable, or a
Prometheus/Tempo datasource variable or export input such as ``$datasource``, ``${DS_PROMETHEUS}``)
becomes ``kit.prometheus`` / ``kit.tempo`` (the dashboards' ``${prometheus}``/``${tempo}``
variables); any other stays as given, with a comment saying so.
"""

from __future__ import annotations

import re

import attr

from .. import api
from ..artifacts import to_plain
from ..catalog.model import Catalog
from ..dashboards.model import datasource_ref
from .code import Call, Code, fmt, real

CLASSES = {"timeseries": "TimeSeriesPanel", "stat": "StatPanel", "table": "TablePanel", "text": "TextPanel",
           "row": "Row"}
# What the importer leaves out of a panel's extra: ids are hashed from keys, Grafana rewrites
# pluginVersion when it saves, a collapsed row's panels are its own calls.
IGNORED_PANEL_KEYS = frozenset({"id", "pluginVersion"})
# Dashboard keys the kit writes itself (or Grafana sets when it stores the dashboard).
DASHBOARD_KEYS_DROPPED = frozenset({
    "__inputs", "__requires", "__elements", "id", "version", "iteration", "gnetId", "editable", "style",
    "schemaVersion", "timepicker", "fiscalYearStartMonth", "liveNow", "weekStart", "hideControls",
    "sharedCrosshair", "preload", "nav"})
THRESHOLD_COLORED = frozenset({"stat", "gauge", "bargauge", "table", "singlestat"})
MAX_FUNCTION_LINES = 70  # a section longer than this is split in parts
MAX_PANEL_LINES = 60  # a panel call longer than this has its biggest literals moved to constants


class Emitter:
    def __init__(self, catalog: Catalog, kinds: dict[str, str]):
        self.catalog = catalog
        self.kinds = kinds  # datasource variable / export input name -> plugin type
        self.warnings: list[str] = []
        self.keys: set[str] = set()
        self.functions: set[str] = {"dashboards"}
        self.constants: dict[str, str] = {}
        self.used: set[str] = {"Kit"}
        self.refs = {
            "prometheus": Code("kit.prometheus", datasource_ref("prometheus", "${" + catalog.prometheus.variable + "}")),
            "tempo": Code("kit.tempo", datasource_ref("tempo", "${" + catalog.tempo.variable + "}")),
        }

    # --- datasources ---------------------------------------------------------------------------
    def mapped_kind(self, ref) -> str | None:
        """``prometheus`` or ``tempo`` when ``ref`` names the catalog's datasource of that kind."""
        if isinstance(ref, str):
            ref = {"uid": ref}
        if not isinstance(ref, dict):
            return None
        uid, kind = str(ref.get("uid", "")), ref.get("type")
        for name, d in (("prometheus", self.catalog.prometheus), ("tempo", self.catalog.tempo)):
            if uid in (d.name, d.uid, f"${d.variable}", f"${{{d.variable}}}") and kind in (None, name):
                return name
            var = re.fullmatch(r"\$\{?([A-Za-z0-9_]+)(?::[a-z]+)?\}?", uid)
            if var and self.kinds.get(var.group(1)) == name:
                return name
        return None

    def datasource(self, ref, notes: list[str]):
        if ref is None:
            return None
        kind = self.mapped_kind(ref)
        if kind:
            return self.refs[kind]
        note = f"datasource {fmt(ref)} is not one of the catalog's ({self.catalog.prometheus.name}, " \
               f"{self.catalog.tempo.name}): kept as given"
        if note not in notes:
            notes.append(note)
        return ref

    # --- identity -------------------------------------------------------------------------------
    def key(self, title: str, prefix: str = "") -> str:
        base = prefix + (slug(title) or "panel")
        key, n = base, 2
        while key in self.keys:
            key, n = f"{base}-{n}", n + 1
        self.keys.add(key)
        return key

    def function_name(self, title) -> str:
        base = re.sub(r"[^a-z0-9]+", "_", str(title).lower()).strip("_")[:40].strip("_") or "panels"
        base = base if base[0].isalpha() else f"row_{base}"
        if keyword_like(base):
            base += "_panels"
        name, n = base, 2
        while name in self.functions:
            name, n = f"{base}_{n}", n + 1
        self.functions.add(name)
        return name

    def call(self, name: str, args: tuple = (), kwargs: dict | None = None) -> Call:
        self.used.add(name)
        return Call(name, getattr(api, name), args, kwargs)

    # --- panels ---------------------------------------------------------------------------------
    def panel(self, p: dict, notes: list[str]) -> Call:
        kind = p.get("type", "") if isinstance(p.get("type", ""), str) else str(p.get("type"))
        name = CLASSES.get(kind, "PluginPanel")
        if kind == "heatmap" and "calculate" in (p.get("options") or {}):
            name = "HeatmapPanel"
        title = p.get("title", "") if isinstance(p.get("title", ""), str) else str(p.get("title"))
        kw: dict = {"key": self.key(title, "row-" if kind == "row" else "")}
        if name == "PluginPanel":
            kw["pluginType"] = kind
            self.warnings.append(
                f"panel {title!r}: a library panel reference, kept as it is (Grafana fills it in from the library)"
                if not kind and "libraryPanel" in p else
                f"panel {title!r}: dashgen has no class for {kind!r} panels; its options are kept verbatim")
        kw["title"] = title
        for src, dst in (("description", "description"), ("gridPos", "gridPos")):
            if p.get(src):
                kw[dst] = p[src]
        if kind == "row":
            kw["collapsed"] = bool(p.get("collapsed"))
            return self._finish(name, kw, p, notes)
        panel_ds = self.datasource(p.get("datasource"), notes) if "datasource" in p else None
        if "datasource" in p and p["datasource"] is not None:
            kw["dataSource"] = panel_ds
        if p.get("targets"):
            kw["targets"] = [self.target(t, p.get("datasource"), notes) for t in p["targets"]]
        for k in ("links", "transformations", "interval"):
            if p.get(k):
                kw[k] = p[k]
        kw.update(self.field_kwargs(p))
        kw.update(TYPED.get(name, lambda _p: {})(p))
        return self._finish(name, kw, p, notes)

    def field_kwargs(self, p: dict) -> dict:
        fc = p.get("fieldConfig") if isinstance(p.get("fieldConfig"), dict) else {}
        d = fc.get("defaults") if isinstance(fc.get("defaults"), dict) else {}
        kw: dict = {}
        for src, dst in (("unit", "unit"), ("decimals", "decimals"), ("min", "minValue"), ("max", "maxValue"),
                         ("noValue", "noValue")):
            if d.get(src) is not None:
                kw[dst] = d[src]
        color = d.get("color")
        if isinstance(color, dict) and set(color) == {"mode"}:
            kw["colorMode"] = color["mode"]
        elif not isinstance(color, dict):
            # no colour said: the plugin's own default (stat, gauge, bar gauge, table colour by
            # thresholds; the rest by the classic palette), not the kit class's
            kw["colorMode"] = "thresholds" if str(p.get("type")) in THRESHOLD_COLORED else "palette-classic"
        steps = (d.get("thresholds") or {}).get("steps") if isinstance(d.get("thresholds"), dict) else None
        if isinstance(steps, list) and steps and all(isinstance(s, dict) and "color" in s for s in steps):
            kw["thresholdSteps"] = [self.call("ThresholdStep", (s["color"],) if s.get("value") is None
                                              else (s["color"], s["value"])) for s in steps]
        for src, dst in (("mappings", "mappings"), ("links", "fieldLinks")):
            if d.get(src):
                kw[dst] = d[src]
        if fc.get("overrides"):
            kw["overrides"] = fc["overrides"]
        return kw

    def target(self, t, panel_ref, notes: list[str]):
        if not isinstance(t, dict):
            return t
        ref = t.get("datasource", panel_ref)
        ds = self.datasource(ref, notes)
        kind = self.mapped_kind(ref) or (ref.get("type") if isinstance(ref, dict) else None)
        if kind == "prometheus" and isinstance(t.get("expr"), str) and ds is not None:
            kw: dict = {"expr": t["expr"], "datasource": ds, "refId": t.get("refId") or "A"}
            for k in ("legendFormat", "format", "interval"):
                if t.get(k) not in (None, ""):
                    kw[k] = t[k]
            if t.get("instant"):
                kw["instant"] = True
            if t.get("hide"):
                kw["hide"] = True
            call = self.call("PrometheusTarget", (), kw)
            made = to_plain(call.build())
            extra = diff({**t, "datasource": real(ds)}, made)
            if extra:
                call.kwargs["extra"] = extra
            return call
        if kind == "tempo" and isinstance(t.get("query"), str) and ds is not None:
            return self._tempo_target(t, ds)
        out = dict(t)
        if "datasource" in out and ds is not None:
            out["datasource"] = ds
        return out

    def _tempo_target(self, t: dict, ds) -> Call:
        """A TraceQL target as the kit's TempoTarget: metrics (range or instant) or search."""
        metrics = "metricsQueryType" in t or "step" in t
        kw: dict = {"query": t["query"], "datasource": ds, "refId": t.get("refId") or "A"}
        if not metrics:
            kw["kind"] = "search"
        for k in (("metricsQueryType", "step", "exemplars") if metrics else ("tableType", "spss")) + ("limit",):
            if t.get(k) is not None:
                kw[k] = t[k]
        defaults = {a.name: a.default for a in attr.fields(api.TempoTarget)}
        kw = {k: v for k, v in kw.items() if k in ("query", "datasource", "refId") or v != defaults.get(k)}
        try:
            call = self.call("TempoTarget", (), kw)
            made = to_plain(call.build())
        except (TypeError, ValueError):  # a value TempoTarget does not take: the target stays as it is
            return {**t, "datasource": ds}
        extra = diff({**t, "datasource": real(ds)}, made)
        if extra:
            call.kwargs["extra"] = extra
        return call

    def _finish(self, name: str, kw: dict, p: dict, notes: list[str]) -> Call:
        defaults = getattr(api, name)()
        for k in list(kw):
            if k not in ("key", "title", "gridPos", "pluginType") and _same(getattr(defaults, k, object()), real(kw[k])):
                del kw[k]
        call = self.call(name, (), kw)
        made = to_plain(call.build())
        src = {k: v for k, v in p.items() if k not in IGNORED_PANEL_KEYS and not (k == "panels" and name == "Row")}
        if "datasource" in src:
            src["datasource"] = real(self.datasource(src["datasource"], notes))
        if isinstance(made.get("targets"), list) and "targets" in src:
            src["targets"] = made["targets"]  # each target keeps what it does not type in its own extra
        extra = diff(src, made)
        if extra:
            call.kwargs["extra"] = extra
            self.warnings.append(f"panel {p.get('title', '')!r}: kept verbatim: {', '.join(paths(extra))}")
        return call


def _same(a, b) -> bool:
    try:
        return to_plain(a) == to_plain(b)
    except TypeError:
        return False


# Where a panel's plugin merges its defaults under what the panel says (Grafana's
# getPanelOptionsWithDefaults, packages/grafana-data/src/panel/getPanelOptionsWithDefaults.ts:
# lodash mergeWith, a list replacing the default whole): there an empty object sets nothing but an
# empty list or string replaces the plugin's default, so it is kept (Ray's pie charts say
# "displayLabels": []).
MERGED = ("options", "fieldConfig")


def diff(src, made, merged: bool = False) -> dict:
    """What ``src`` says that ``made`` does not (objects compared key by key; other values whole)."""
    out = {}
    for k, v in src.items():
        if k in made and isinstance(v, dict) and isinstance(made[k], dict):
            sub = diff(v, made[k], merged or k in MERGED)
            if sub:
                out[k] = sub
        elif k not in made:
            if v not in (None, [], {}, "") or (merged and v in ([], "")):
                out[k] = v
        elif made[k] != v:
            out[k] = v
    return out


def paths(extra: dict, prefix: str = "") -> list[str]:
    out = []
    for k, v in extra.items():
        if isinstance(v, dict) and v and len(out) < 12:
            out += paths(v, f"{prefix}{k}.")
        else:
            out.append(f"{prefix}{k}")
    return out


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")[:60].strip("-")


def keyword_like(name: str) -> bool:
    """A name a function of the file must not take: a keyword, a builtin, or one the file imports."""
    import builtins
    import keyword

    return keyword.iskeyword(name) or hasattr(builtins, name) or name in {"kit", "api"} or name in api.__all__


# --- the typed options of each class ---------------------------------------------------------------

def _custom(p: dict) -> dict:
    d = ((p.get("fieldConfig") or {}).get("defaults") or {})
    return d.get("custom") if isinstance(d.get("custom"), dict) else {}


def _options(p: dict) -> dict:
    return p.get("options") if isinstance(p.get("options"), dict) else {}


def _timeseries(p: dict) -> dict:
    c, o = _custom(p), _options(p)
    kw: dict = {}
    for src, dst in (("drawStyle", "drawStyle"), ("fillOpacity", "fillOpacity"), ("lineWidth", "lineWidth"),
                     ("showPoints", "showPoints")):
        if c.get(src) is not None:
            kw[dst] = c[src]
    if isinstance(c.get("thresholdsStyle"), dict) and c["thresholdsStyle"].get("mode"):
        kw["thresholdsStyle"] = c["thresholdsStyle"]["mode"]
    if isinstance(c.get("stacking"), dict) and c["stacking"].get("mode"):
        kw["stacking"] = c["stacking"]["mode"]
    if isinstance(c.get("scaleDistribution"), dict) and c["scaleDistribution"] == {"type": "log", "log": 2}:
        kw["logScale"] = True
    legend = o.get("legend") if isinstance(o.get("legend"), dict) else {}
    if legend.get("calcs"):
        kw["legendCalcs"] = legend["calcs"]
    if legend.get("displayMode") in ("list", "table"):
        kw["legendDisplay"] = legend["displayMode"]
    return kw


def _stat(p: dict) -> dict:
    o = _options(p)
    kw: dict = {}
    reduce = o.get("reduceOptions") if isinstance(o.get("reduceOptions"), dict) else {}
    if isinstance(reduce.get("calcs"), list) and len(reduce["calcs"]) == 1:
        kw["reduceCalc"] = reduce["calcs"][0]
    if isinstance(reduce.get("fields"), str):
        kw["reduceFields"] = reduce["fields"]
    for src, dst in (("graphMode", "graphMode"), ("colorMode", "statColorMode"), ("textMode", "textMode")):
        if isinstance(o.get(src), str):
            kw[dst] = o[src]
    return kw


def _table(p: dict) -> dict:
    o = _options(p)
    kw: dict = {}
    sort = o.get("sortBy")
    if isinstance(sort, list) and all(isinstance(s, dict) and set(s) <= {"displayName", "desc"} for s in sort):
        kw["sortBy"] = [[s.get("displayName", ""), bool(s.get("desc"))] for s in sort]
    if isinstance(o.get("cellHeight"), str):
        kw["cellHeight"] = o["cellHeight"]
    return kw


def _text(p: dict) -> dict:
    o = _options(p)
    kw: dict = {}
    content = o.get("content", p.get("content"))
    if isinstance(content, str):
        kw["content"] = content
    mode = o.get("mode", p.get("mode"))
    if isinstance(mode, str):
        kw["mode"] = mode
    return kw


def _heatmap(p: dict) -> dict:
    o = _options(p)
    kw: dict = {}
    if isinstance(o.get("yAxis"), dict) and o["yAxis"].get("unit"):
        kw["yUnit"] = o["yAxis"]["unit"]
    if isinstance(o.get("color"), dict) and isinstance(o["color"].get("scheme"), str):
        kw["colorScheme"] = o["color"]["scheme"]
    return kw


TYPED = {"TimeSeriesPanel": _timeseries, "StatPanel": _stat, "TablePanel": _table, "TextPanel": _text,
         "HeatmapPanel": _heatmap}

