"""Grafana's template interpolation, as a dashboard (a scene) runs it, for the tests.

A Tempo panel's TraceQL goes through ``templateSrv.replace(query, scopedVars, VariableFormatID.Pipe)``
(grafana/grafana ``public/app/plugins/datasource/tempo/datasource.ts``, ``applyVariables`` and
``prepareTargets``); in a dashboard that is ``sceneGraph.interpolate`` (grafana/grafana
``public/app/features/templating/template_srv.ts``, ``replace``: the active scene evaluates it). This
module follows grafana/scenes line by line:

- ``packages/scenes/src/variables/constants.ts``: ``VARIABLE_REGEX`` (``$name``, ``[[name:fmt]]``,
  ``${name.path:fmt}``);
- ``packages/scenes/src/variables/interpolation/sceneInterpolator.ts``: ``formatValue``: a custom
  value (a custom all value) is asked for its text and that text is interpolated again; otherwise
  the format named in the expression, else the one the caller passes (Tempo: ``pipe``), else
  ``glob``; ``fmt:arg:arg`` passes arguments; an unknown format falls back to ``glob``;
- ``packages/scenes/src/variables/variants/MultiValueVariable.ts``: ``getValue`` (All: the custom
  all value, else every option's value) and ``CustomAllValue.formatter`` (the all value as written,
  except for ``text``, ``percentencode`` and ``queryparam``);
- ``packages/scenes/src/variables/interpolation/formatRegistry.ts``: the formats used here;
- ``packages/scenes/src/variables/variants/CustomVariable.tsx``: ``transformCsvStringToOptions``
  (the query interpolated, split at unescaped commas, ``text : value`` read as a label and a value).

A variable's value here: a string (one value), a list (several chosen, or All without an all
value: every option), or ``AllValue(text)`` (All with a custom all value).
"""
from __future__ import annotations

import re

VARIABLE_REGEX = re.compile(
    r"\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)((?:\.[^:^{}\[\]]+|\[\"[^\"]*\"\]|\['[^']*'\]|\[[^\]\"']*\])*)"
    r"(?::([^}]+))?\}")
ALL_TEXT = "All"


class AllValue(str):
    """A variable on All whose custom ``allValue`` is this text (``CustomAllValue``)."""


def _escape_regex(value: str) -> str:  # grafana/scenes utils: escapeRegex
    return re.sub(r"[\\^$*+?.()|[\]{}/]", lambda m: "\\" + m.group(0), value)


def _glob(value, args):
    if isinstance(value, list) and len(value) > 1:
        return "{" + ",".join(value) + "}"
    return ",".join(value) if isinstance(value, list) else str(value)  # String(value)


def _doublequote(value, args):
    if isinstance(value, list):
        return ",".join('"' + v.replace('"', '\\"') + '"' for v in value)
    return '"' + str(value).replace('"', '\\"') + '"'


def _regex(value, args):
    if isinstance(value, list):
        escaped = [_escape_regex(str(v)) for v in value]
        return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"
    return _escape_regex(str(value))


FORMATS = {
    "raw": lambda value, args: ",".join(value) if isinstance(value, list) else str(value),  # String(array)
    "pipe": lambda value, args: "|".join(value) if isinstance(value, list) else str(value),
    "csv": lambda value, args: ",".join(value) if isinstance(value, list) else str(value),
    "join": lambda value, args: (args[0] if args else ",").join(value) if isinstance(value, list) else str(value),
    "doublequote": _doublequote,
    "regex": _regex,
    "glob": _glob,
}


def _query_param(name: str, value) -> str:
    """``queryparam`` of a variable that syncs to the URL: ``urlUtil.toUrlParams(getUrlState())``
    (``MultiValueUrlSyncHandler.getUrlState``: the values, All as ``$__all``); ``toUrlParams``
    encodes as AngularJS did (``packages/grafana-data/src/utils/url.ts``: ``@ : $ ,`` kept)."""
    from urllib.parse import quote

    values = ["$__all"] if isinstance(value, AllValue) else (value if isinstance(value, list) else [value])
    return "&".join(f"var-{name}={quote(str(v), safe='@:$,')}" for v in values)


def format_value(value, fmt: str | None, values: dict, name: str = "") -> str:
    """``formatValue`` for one variable's value."""
    if fmt == "queryparam":
        return _query_param(name, value)
    if isinstance(value, AllValue):
        if fmt == "text":
            return ALL_TEXT
        if fmt == "percentencode":
            raise NotImplementedError(fmt)  # not used here
        return interpolate(str(value), values)[0]  # CustomAllValue.formatter, then sceneInterpolator again
    args: list[str] = []
    if not fmt:
        fmt = "glob"
    else:
        parts = fmt.split(":")
        fmt, args = parts[0], parts[1:]
    if fmt == "text":
        raise NotImplementedError("text")  # the option labels; not used by a TraceQL query
    return FORMATS.get(fmt, FORMATS["glob"])(value, args)


def interpolate(target: str, values: dict, fmt: str | None = None) -> tuple[str, list[str]]:
    """``sceneInterpolator``: (the text with every known variable replaced, the unknown names,
    left as written)."""
    missing: list[str] = []

    def repl(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(2) or m.group(4)
        if name not in values:
            missing.append(name)
            return m.group(0)
        if m.group(5):
            raise NotImplementedError(f"field path in {m.group(0)}")
        return format_value(values[name], m.group(3) or m.group(6) or fmt, values, name)

    return VARIABLE_REGEX.sub(repl, target), missing


def custom_options(query: str, values: dict) -> list[tuple[str, str]]:
    """``transformCsvStringToOptions``: (label, value) of each option of a custom variable."""
    text, missing = interpolate(query, values)
    assert not missing, f"unknown variables {missing} in {query!r}"
    out = []
    for piece in re.findall(r"(?:\\,|[^,])+", text):
        piece = piece.replace("\\,", ",")
        m = re.match(r"^\s*(.+)\s:\s(.+)$", piece, re.S)
        out.append((m.group(1).strip(), m.group(2).strip()) if m else (piece.strip(), piece.strip()))
    return out


def js_regex(pattern: str) -> re.Pattern:
    """``stringToJsRegex`` for the patterns a variable's ``regex`` uses (``/body/flags``)."""
    m = re.fullmatch(r"/(.*)/([gimsuy]*)", pattern, re.S)
    assert m, pattern
    return re.compile(m.group(1), re.I if "i" in m.group(2) else 0)


def query_variable_values(found: list[str], regex: str) -> list[str]:
    """``metricNamesToVariableValues`` (grafana/scenes ``variants/query/utils.ts``) for a regex
    without capture groups: the values it matches, the others left out."""
    if not regex:
        return list(found)
    r = js_regex(regex)
    return [v for v in found if r.search(v)]
