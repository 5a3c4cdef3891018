"""``dataclass``: the standard library's decorator without its generated code.

``dataclasses.dataclass`` writes each class's ``__init__``, ``__repr__``, ``__eq__`` and (frozen)
``__hash__``, ``__setattr__`` and ``__delattr__`` as source text and compiles each with ``exec``:
over the sixty-odd value classes ``dashgen build`` imports, that compiling was a fifth of the
build's time above the start-up of its stack (bench/build.py). Here the class is made by
``dataclasses.dataclass`` itself with nothing generated (``init=False, repr=False, eq=False``), so
it is a real dataclass (``fields``, ``replace``, ``asdict``, ``is_dataclass`` work as before), and
those methods are shared functions that read the class's fields. They behave as the generated
ones do:

- ``__init__``: the init fields in order, positional or by keyword, ``default`` and
  ``default_factory``, then ``__post_init__`` when the class has one;
- ``__repr__``: ``Name(field=value, ...)`` over the ``repr`` fields;
- ``__eq__``: same class and equal ``compare`` fields, else ``NotImplemented``;
- ``__hash__``: frozen, the hash of the tuple of the hashed fields (the same values, so sets
  iterate in the same order); not frozen, unhashable;
- frozen: assigning or deleting a field raises ``dataclasses.FrozenInstanceError``.

A method the class body defines itself is kept, as ``dataclasses`` does. Creating an instance
costs about a microsecond more than with the generated ``__init__``; a build creates a few
thousand. Options beyond ``frozen``, ``eq`` and ``repr`` (``order``, ``slots``, ``kw_only``...)
are refused: use ``dataclasses.dataclass`` for those.
"""

from __future__ import annotations

import dataclasses
import functools
import operator
import threading
from typing import dataclass_transform

_MISSING = dataclasses.MISSING


def _getter(names: list[str]):
    """The tuple of ``names``' values of an object (``operator.attrgetter`` gives no tuple for one)."""
    if len(names) == 1:
        name = names[0]
        return lambda obj: (getattr(obj, name),)
    return operator.attrgetter(*names) if names else (lambda obj: ())


def _make_init(cls: type, fields: tuple):
    init = [f for f in fields if f.init]
    names = tuple(f.name for f in init)
    everything = frozenset(names)
    defaults = {f.name: f.default for f in init if f.default is not _MISSING}
    factories = {f.name: f.default_factory for f in init if f.default_factory is not _MISSING}
    optional = defaults.keys() | factories.keys()
    post_init = hasattr(cls, "__post_init__")

    def __init__(self, *args, **kwargs):
        values = kwargs
        if args:
            if len(args) > len(names) or not kwargs.keys().isdisjoint(names[:len(args)]):
                _refuse(type(self), names, args, kwargs, optional)
            values = dict(zip(names, args))
            values.update(kwargs)
        if values.keys() != everything:  # defaults to fill in (or names that are no fields)
            if not values.keys() <= everything:
                _refuse(type(self), names, args, kwargs, optional)
            for name in everything - values.keys():
                if name in defaults:
                    values[name] = defaults[name]
                elif name in factories:
                    values[name] = factories[name]()
                else:
                    _refuse(type(self), names, args, kwargs, optional)
        self.__dict__.update({name: values[name] for name in names})  # in field order, as generated
        if post_init:
            self.__post_init__()

    return __init__


def _refuse(cls: type, names: tuple, args: tuple, kwargs: dict, optional):
    """The TypeError the generated ``__init__`` would raise for these arguments."""
    where = f"{cls.__qualname__}.__init__()"
    if len(args) > len(names):
        raise TypeError(f"{where} takes {len(names) + 1} positional arguments but {len(args) + 1} were given")
    for name in names[:len(args)]:
        if name in kwargs:
            raise TypeError(f"{where} got multiple values for argument '{name}'")
    for name in kwargs:
        if name not in names:
            raise TypeError(f"{where} got an unexpected keyword argument '{name}'")
    given = {*names[:len(args)], *kwargs}
    missing = [n for n in names if n not in given and n not in optional]
    raise TypeError(f"{where} missing {len(missing)} required argument{'s' * (len(missing) > 1)}: "
                    + ", ".join(repr(n) for n in missing))


_REPR_RUNNING: set[tuple[int, int]] = set()


def _make_repr(fields: tuple):
    shown = [f.name for f in fields if f.repr]

    def __repr__(self) -> str:
        key = (id(self), threading.get_ident())
        if key in _REPR_RUNNING:  # a record that contains itself, as dataclasses' recursive repr writes it
            return "..."
        _REPR_RUNNING.add(key)
        try:
            values = ", ".join(f"{name}={getattr(self, name)!r}" for name in shown)
        finally:
            _REPR_RUNNING.discard(key)
        return f"{type(self).__qualname__}({values})"

    return __repr__


def _make_eq(fields: tuple):
    compared = _getter([f.name for f in fields if f.compare])

    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return compared(self) == compared(other)
        return NotImplemented

    return __eq__


def _make_hash(fields: tuple):
    hashed = _getter([f.name for f in fields if (f.compare if f.hash is None else f.hash)])

    def __hash__(self) -> int:
        return hash(hashed(self))

    return __hash__


def _frozen_setattr(self, name, value):
    raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delattr(self, name):
    raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")


def _has_own(cls: type, name: str) -> bool:
    """Whether the class body defines ``name`` (a body defining ``__eq__`` gets ``__hash__ = None``
    from Python itself: that is no hash of its own)."""
    if name == "__hash__":
        return "__hash__" in cls.__dict__ and not (cls.__dict__["__hash__"] is None and "__eq__" in cls.__dict__)
    return name in cls.__dict__


@dataclass_transform(field_specifiers=(dataclasses.field, dataclasses.Field))
def dataclass(cls=None, /, *, frozen: bool = False, eq: bool = True, repr: bool = True):
    """``@dataclass`` / ``@dataclass(frozen=True, eq=..., repr=...)`` as the standard library's,
    with shared methods instead of generated ones (this module's docstring)."""

    def wrap(cls):
        if not cls.__dict__.get("__doc__"):
            # dataclasses would write one from inspect.signature(cls), which costs more than the class
            cls.__doc__ = f"{cls.__name__}({', '.join(cls.__dict__.get('__annotations__', {}))})"
        cls = dataclasses.dataclass(cls, init=False, repr=False, eq=False)
        fields = dataclasses.fields(cls)
        methods = {"__init__": _make_init(cls, fields)}
        if repr:
            methods["__repr__"] = _make_repr(fields)
        if eq:
            methods["__eq__"] = _make_eq(fields)
            if not _has_own(cls, "__hash__"):
                methods["__hash__"] = _make_hash(fields) if frozen else None
        if frozen:
            for name in ("__setattr__", "__delattr__"):
                if name in cls.__dict__:
                    raise TypeError(f"cannot overwrite attribute {name} in class {cls.__name__}")
            methods.update(__setattr__=_frozen_setattr, __delattr__=_frozen_delattr)
        for name, method in methods.items():
            if name == "__hash__" or not _has_own(cls, name):
                if method is not None:
                    method.__qualname__ = f"{cls.__qualname__}.{name}"
                setattr(cls, name, method)
        return cls

    return wrap if cls is None else wrap(cls)


def derived(fn):
    """``fn(record)``, computed once per frozen record: a value derived from the record's fields
    (which never change) is kept in the instance's ``__dict__``, as ``functools.cached_property``
    keeps its value, so a reader in a higher layer can ask for it per panel or per rule without
    walking the catalog again each time (at 500 stages those walks made the build quadratic:
    bench/build.py). Fields, ``__eq__``, ``__hash__`` and ``__repr__`` never see the kept value."""
    key = f"_derived_{fn.__module__}.{fn.__qualname__}"

    @functools.wraps(fn)
    def once(record):
        kept = record.__dict__
        try:
            return kept[key]
        except KeyError:
            value = kept[key] = fn(record)
            return value

    return once
