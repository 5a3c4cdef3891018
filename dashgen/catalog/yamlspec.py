"""A small declarative schema for YAML documents that reports errors at ``file:line:col``.

pyyaml's ``safe_load`` forgets where a value came from and silently keeps the last of two
duplicate keys. The catalog needs both: every error must name the line, and a duplicate
key is a mistake. So we ``compose`` the document into nodes (which carry their marks) and
walk them with the specs below, producing plain Python values.

A spec for one value raises its ``CatalogError``; the mapping or list holding that value
records it in the ``Context`` (``located``), puts ``INVALID`` in its place and goes on with
the next key or item, so one run reports every independent mistake.

Each spec has a ``doc`` string; the README's catalog reference lists every field, and a
test checks that none is missing there.
"""

from __future__ import annotations

import re
from dataclasses import field
from typing import Any

import yaml

from ..records import dataclass  # dataclasses' decorator without generated code (start-up)
from ..errors import CatalogError
from .located import INVALID, Context, Loc, dotted, node_loc

__all__ = ["BLOCK_DEFAULTS", "INVALID", "Bool", "Context", "Enum", "Field", "ListOf", "Loc", "Map", "Num", "Spec", "Str", "dotted",
           "iter_fields", "load_document"]


def close_matches(word: str, possibilities: list[str]) -> list[str]:
    """The closest of ``possibilities`` to a misspelt ``word`` (difflib, imported only when a catalog
    has a mistake: a valid one does not pay for it)."""
    import difflib

    return difflib.get_close_matches(word, possibilities, n=1)


def _kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if node.tag.endswith(":null"):
        return "null"
    if node.tag.endswith(":bool"):
        return "a boolean"
    if node.tag.endswith(":int"):
        return "an integer"
    if node.tag.endswith(":float"):
        return "a number"
    return "a string"


class Spec:
    doc: str = ""
    type_name: str = "value"

    def load(self, node: yaml.Node, path: tuple, ctx: Context) -> Any:  # pragma: no cover
        raise NotImplementedError

    def load_or_report(self, node: yaml.Node, path: tuple, ctx: Context) -> Any:
        """``load``, but a problem with this value is recorded and yields ``INVALID``."""
        try:
            return self.load(node, path, ctx)
        except CatalogError as err:
            ctx.report(err, path)
            return INVALID

    def _record(self, node: yaml.Node, path: tuple, ctx: Context) -> Loc:
        loc = node_loc(node)
        ctx.locations[path] = loc
        return loc

    def _type_error(self, node: yaml.Node, path: tuple, ctx: Context, example: str) -> CatalogError:
        return ctx.error(
            node_loc(node),
            f"{dotted(path)} must be {self.type_name}, got {_kind(node)}",
            f"write it like: {example}",
        )


_BAD = object()  # what _scalar returns for a scalar its tag cannot construct


def _scalar(node: yaml.Node) -> Any:
    """Resolve a scalar node to its Python value with the safe constructor (``_BAD`` if it cannot).

    Explicit tags make pyyaml's constructors fail in many ways: ``!!bool maybe`` (KeyError),
    ``!!int abc`` (ValueError), ``!custom`` (ConstructorError), a 5000-digit int (ValueError).
    """
    try:
        return yaml.constructor.SafeConstructor().construct_object(node, deep=True)
    except (ValueError, TypeError, KeyError, OverflowError, yaml.YAMLError):
        return _BAD


@dataclass
class Str(Spec):
    doc: str = ""
    pattern: str | None = None
    pattern_hint: str = ""
    example: str = '"text"'
    allow_empty: bool = False
    type_name: str = "a string"

    def load(self, node, path, ctx):
        loc = self._record(node, path, ctx)
        if not isinstance(node, yaml.ScalarNode) or node.tag != "tag:yaml.org,2002:str":
            raise self._type_error(node, path, ctx, f"{path[-1]}: {self.example}")
        value = node.value
        if not value.strip() and not self.allow_empty:
            raise ctx.error(loc, f"{dotted(path)} is empty", f"give it a value, e.g. {self.example}")
        if self.pattern and value and not re.fullmatch(self.pattern, value):
            raise ctx.error(loc, f"{dotted(path)} {value!r} is not valid", self.pattern_hint)
        return value


@dataclass
class Enum(Spec):
    values: tuple = ()
    doc: str = ""
    type_name: str = "one of the listed words"

    def load(self, node, path, ctx):
        loc = self._record(node, path, ctx)
        value = _scalar(node) if isinstance(node, yaml.ScalarNode) else _BAD
        # Compare types too: ``true == 1`` and ``1.0 == 1`` must not pass for ``1``.
        if not any(type(value) is type(v) and value == v for v in self.values):
            shown = node.value if isinstance(node, yaml.ScalarNode) else _kind(node)
            close = close_matches(str(shown), [str(v) for v in self.values])
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ctx.error(
                loc,
                f"{dotted(path)} {shown!r} is not one of {', '.join(map(str, self.values))}",
                f"{hint}use one of: {', '.join(map(str, self.values))}",
            )
        return value


@dataclass
class Num(Spec):
    doc: str = ""
    integer: bool = False
    positive: bool = False
    minimum: float | None = None
    maximum: float | None = None
    exclusive: bool = False
    example: str = "350"

    @property
    def type_name(self) -> str:
        return "an integer" if self.integer else "a number"

    def load(self, node, path, ctx):
        loc = self._record(node, path, ctx)
        ok_tags = ("tag:yaml.org,2002:int",) if self.integer else ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
        if not isinstance(node, yaml.ScalarNode) or node.tag not in ok_tags:
            raise self._type_error(node, path, ctx, f"{path[-1]}: {self.example}")
        value = _scalar(node)
        if value is _BAD or isinstance(value, bool):
            raise self._type_error(node, path, ctx, f"{path[-1]}: {self.example}")
        if isinstance(value, float) and value != value or value in (float("inf"), float("-inf")):
            raise ctx.error(loc, f"{dotted(path)} must be a finite number", f"write e.g. {self.example}")
        if abs(value) > MAX_NUMBER:
            raise ctx.error(loc, f"{dotted(path)} is too large", f"use a number between -{MAX_NUMBER} and {MAX_NUMBER}")
        if self.positive and value <= 0:
            raise ctx.error(loc, f"{dotted(path)} must be positive, got {node.value}", f"use a value above 0, e.g. {self.example}")
        if self.minimum is not None and (value <= self.minimum if self.exclusive else value < self.minimum):
            raise ctx.error(loc, f"{dotted(path)} {node.value} is out of range", f"use a value {'above' if self.exclusive else 'of at least'} {self.minimum}")
        if self.maximum is not None and (value >= self.maximum if self.exclusive else value > self.maximum):
            raise ctx.error(loc, f"{dotted(path)} {node.value} is out of range", f"use a value {'below' if self.exclusive else 'of at most'} {self.maximum}")
        return value


@dataclass
class Bool(Spec):
    doc: str = ""
    type_name: str = "true or false"

    def load(self, node, path, ctx):
        self._record(node, path, ctx)
        value = _scalar(node) if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:bool" else _BAD
        if not isinstance(value, bool):
            raise self._type_error(node, path, ctx, f"{path[-1]}: true")
        return value


@dataclass
class ListOf(Spec):
    item: Spec = None  # type: ignore[assignment]
    doc: str = ""
    min_items: int = 0
    unique_by: str | None = None  # key of mapping items that must be unique
    type_name: str = "a list"

    def load(self, node, path, ctx):
        loc = self._record(node, path, ctx)
        if not isinstance(node, yaml.SequenceNode):
            raise self._type_error(node, path, ctx, f"{path[-1]}: [ ... ]")
        if len(node.value) < self.min_items:
            raise ctx.error(loc, f"{dotted(path)} needs at least {self.min_items} item(s)", "add one")
        out = [self.item.load_or_report(child, path + (i,), ctx) for i, child in enumerate(node.value)]
        if self.unique_by:
            seen: dict[Any, int] = {}
            for i, value in enumerate(out):
                key = INVALID if value is INVALID else value[self.unique_by]
                if key is INVALID:
                    continue
                if key in seen:
                    where = ctx.locations[path + (i, self.unique_by)]
                    first = ctx.locations[path + (seen[key], self.unique_by)]
                    ctx.report(ctx.error(
                        where,
                        f"duplicate {self.unique_by} {key!r} in {dotted(path)} (first defined on line {first.line})",
                        f"give each item of {dotted(path)} a different {self.unique_by}",
                    ), path + (i, self.unique_by))
                else:
                    seen[key] = i
        return out


class _BlockDefaults:
    """The default of an optional block whose keys all have defaults: the block as if written ``{}``."""

    def __repr__(self) -> str:
        return "BLOCK_DEFAULTS"


# A block left out takes the same values as a block written with every key left out, so a
# partial block never flips a default (``nothing_rate: {above: 0.1}`` keeps nothing_rate's
# ``for`` and ``severity``). Give an optional ``Map`` field ``default=BLOCK_DEFAULTS``.
BLOCK_DEFAULTS = _BlockDefaults()


@dataclass
class Field:
    spec: Spec
    required: bool = False
    default: Any = None
    doc: str = ""

    def __post_init__(self) -> None:
        if self.default is BLOCK_DEFAULTS and (not isinstance(self.spec, Map) or any(
                f.required for f in self.spec.fields.values())):
            raise TypeError("BLOCK_DEFAULTS is for a Map whose keys all have defaults")

    def default_value(self) -> Any:
        """What a document that leaves this key out gets (a fresh copy of a mutable default)."""
        if self.default is BLOCK_DEFAULTS:
            return self.spec.defaults()
        return list(self.default) if isinstance(self.default, list) else self.default


@dataclass
class Map(Spec):
    fields: dict[str, Field] = field(default_factory=dict)
    doc: str = ""
    type_name: str = "a mapping"

    def defaults(self) -> dict[str, Any]:
        """What ``load`` returns for this mapping when every key is left out."""
        return {name: f.default_value() for name, f in self.fields.items()}

    def load(self, node, path, ctx):
        loc = self._record(node, path, ctx)
        if not isinstance(node, yaml.MappingNode):
            raise self._type_error(node, path, ctx, f"{path[-1] if path else 'key'}: {{...}}")
        out: dict[str, Any] = {}
        seen: dict[str, Loc] = {}
        misspelt: set[str] = set()  # known keys an unknown key was probably meant to be
        for key_node, value_node in node.value:
            key_loc = node_loc(key_node)
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != "tag:yaml.org,2002:str":
                ctx.report(ctx.error(key_loc, f"keys in {dotted(path)} must be plain words",
                                     "quote nothing, nest nothing in keys"))
                continue
            key = key_node.value
            if key in seen:
                ctx.report(ctx.error(
                    key_loc,
                    f"duplicate key {key!r} in {dotted(path)} (first on line {seen[key].line})",
                    "keep one of the two",
                ))
                continue
            seen[key] = key_loc
            if key not in self.fields:
                close = close_matches(key, list(self.fields))
                misspelt.update(close)
                fix = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(sorted(self.fields))}"
                ctx.report(ctx.error(key_loc, f"unknown key {key!r} in {dotted(path)}", fix))
                continue
            out[key] = self.fields[key].spec.load_or_report(value_node, path + (key,), ctx)
        for name, f in self.fields.items():
            if name not in out:
                if f.required and name in misspelt:  # "did you mean" said it already
                    ctx.invalid.add(path + (name,))
                    out[name] = INVALID
                elif f.required:
                    ctx.report(ctx.error(
                        loc,
                        f"{dotted(path)} is missing the required key {name!r}",
                        f"add {name}: ({f.doc or f.spec.doc or f.spec.type_name})",
                    ), path + (name,))
                    out[name] = INVALID
                else:
                    out[name] = f.default_value()
        return out


MAX_NUMBER = 2**53  # larger numbers do not survive JSON (doubles) exactly; no catalog needs them


def _line_col(text: str, position: int) -> tuple[int, int]:
    """1-based line and column of ``text[position]``, counting line breaks as pyyaml does."""
    head = text[:position].replace("\r\n", "\n")
    for brk in ("\r", "\x85", "\u2028", "\u2029"):
        head = head.replace(brk, "\n")
    return head.count("\n") + 1, len(head) - (head.rfind("\n") + 1) + 1


_FAST_LOADER = getattr(yaml, "CSafeLoader", None)


def _compose(text: str) -> yaml.Node | None:
    """The node tree of ``text``: libyaml's parser when it is there and the text is plain (fast);
    pyyaml's own for control characters and for every error, so messages and marks do not depend
    on the machine (the same nodes and marks either way; a test compares them)."""
    if _FAST_LOADER is not None and not yaml.reader.Reader.NON_PRINTABLE.search(text):
        try:
            return yaml.compose(text, Loader=_FAST_LOADER)
        except yaml.YAMLError:
            pass  # report it as the pure-Python parser words it
    return yaml.compose(text, Loader=yaml.SafeLoader)


def load_document(text: str, spec: Spec, path: str) -> tuple[Any, Context]:
    """Parse ``text`` as one YAML document and load it with ``spec``.

    A YAML syntax error (after which nothing can be read) raises its CatalogError at once;
    problems with values are collected in the returned ``Context`` (the value is ``INVALID``
    when the document itself is not what ``spec`` wants): call ``ctx.raise_errors()``.
    """
    ctx = Context(path)
    try:
        node = _compose(text)
    except yaml.reader.ReaderError as exc:  # a control character, found before parsing starts
        line, col = _line_col(text, exc.position)
        char = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise CatalogError(path, line, col, f"invalid YAML: the control character U+{char:04X} is not allowed",
                           "remove it; a catalog is plain UTF-8 text") from None
    except RecursionError:
        raise CatalogError(path, 1, 1, "invalid YAML: the document is nested too deeply",
                           "a catalog needs only a few levels of nesting") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        raise CatalogError(path, line, col, f"invalid YAML: {problem}", _syntax_fix(text, problem, line, col)) from None
    except yaml.YAMLError as exc:  # pragma: no cover - unmarked errors are rare
        raise CatalogError(path, 1, 1, f"invalid YAML: {exc}", "fix the YAML syntax") from None
    if node is None:
        raise CatalogError(path, 1, 1, "the catalog is empty", "start from the bundled default: dashgen catalog show default")
    return spec.load_or_report(node, (), ctx), ctx


def _syntax_fix(text: str, problem: str, line: int, col: int) -> str:
    """How to fix a YAML syntax error: "use spaces" when a tab is the cause.

    YAML forbids tabs in indentation (YAML 1.2, 6.1 "Indentation Spaces"); pyyaml's scanner
    then says "found character '\\t' that cannot start any token", which does not tell a user
    that the editor put a tab where it showed spaces.
    """
    lines = text.splitlines()
    indent = lines[line - 1][:col] if 0 < line <= len(lines) else ""
    indent = indent[:len(indent) - len(indent.lstrip(" \t"))]
    if "'\\t'" in problem or "\t" in indent:
        return "use spaces, not tabs, to indent YAML"
    return "fix the YAML syntax at that spot"


def iter_fields(spec: Spec, prefix: str = ""):
    """Yield ``(dotted key, Field)`` for every field reachable from ``spec`` (for docs and tests)."""
    if isinstance(spec, Map):
        for name, f in spec.fields.items():
            key = f"{prefix}.{name}" if prefix else name
            yield key, f
            yield from iter_fields(f.spec, key)
    elif isinstance(spec, ListOf):
        yield from iter_fields(spec.item, prefix + "[]")
