"""dashgen.records.dataclass behaves as dataclasses.dataclass (issue 22: start-up without
generated code): the same class declared with both decorators gives the same instances, errors,
equality, hashes and reprs."""

from __future__ import annotations

import copy
import dataclasses
import pickle

import pytest

from dashgen import records


def declare(decorator, frozen: bool):
    @decorator(frozen=frozen)
    class Point:
        """A point."""

        x: int
        y: int = 0
        tags: list = dataclasses.field(default_factory=list)
        note: str = dataclasses.field(default="", compare=False, repr=False)

        @property
        def norm(self) -> int:
            return abs(self.x) + abs(self.y)

    return Point


# pickling needs importable classes
StdPoint = declare(dataclasses.dataclass, frozen=True)
RecPoint = declare(records.dataclass, frozen=True)
StdPoint.__qualname__ = RecPoint.__qualname__ = "Point"
StdPoint.__name__ = "StdPoint"
RecPoint.__name__ = "RecPoint"

CALLS = [
    ((1,), {}),
    ((1, 2), {}),
    ((), {"x": 3, "y": 4}),
    ((5,), {"tags": ["a"], "note": "n"}),
    ((1, 2, ["t"], "n"), {}),
]
BAD_CALLS = [
    ((), {}),  # x missing
    ((1, 2, [], "n", 5), {}),  # too many
    ((1,), {"x": 2}),  # x twice
    ((1,), {"z": 2}),  # no such field
]


@pytest.mark.parametrize("frozen", [True, False])
def test_same_instances_equality_hash_repr(frozen):
    std, rec = declare(dataclasses.dataclass, frozen), declare(records.dataclass, frozen)
    assert [f.name for f in dataclasses.fields(rec)] == ["x", "y", "tags", "note"]
    for args, kwargs in CALLS:
        a, b = std(*args, **kwargs), rec(*args, **kwargs)
        assert vars(a) == vars(b) and list(vars(a)) == list(vars(b))
        assert repr(a) == repr(b)
        assert dataclasses.asdict(a) == dataclasses.asdict(b)
        assert b == rec(*args, **kwargs) and b != a  # another class: not equal, as dataclasses say
        assert dataclasses.replace(b, note="other") == b  # compare=False
        assert dataclasses.replace(b, x=9).x == 9 and dataclasses.replace(b, x=9).y == b.y
        assert b.norm == a.norm
    if frozen:
        a, b = std(1, 2, (), "n"), rec(1, 2, (), "n")
        assert hash(a) == hash(b) == hash((1, 2, ()))  # the same hashes: sets iterate alike
        assert len({rec(1, tags=()), rec(1, tags=()), rec(2, tags=())}) == 2
        with pytest.raises(dataclasses.FrozenInstanceError):
            b.x = 5
        with pytest.raises(dataclasses.FrozenInstanceError):
            del b.x
    else:
        assert rec.__hash__ is None and std.__hash__ is None
        b = rec(1)
        b.x = 5
        assert b.x == 5


def test_default_factory_is_called_per_instance():
    a, b = RecPoint(1), RecPoint(1)
    assert a.tags == [] and a.tags is not b.tags


@pytest.mark.parametrize("args, kwargs", BAD_CALLS)
def test_wrong_arguments_raise_type_error_as_generated(args, kwargs):
    with pytest.raises(TypeError) as std_error:
        StdPoint(*args, **kwargs)
    with pytest.raises(TypeError) as rec_error:
        RecPoint(*args, **kwargs)
    # the same kind of complaint naming the same argument (the wording of counts may differ)
    std_text, rec_text = str(std_error.value), str(rec_error.value)
    for word in ("missing", "multiple values", "unexpected keyword", "positional arguments"):
        assert (word in std_text) == (word in rec_text), (std_text, rec_text)
    for name in ("'x'", "'z'"):
        assert (name in std_text) == (name in rec_text), (std_text, rec_text)


def test_methods_of_the_class_body_are_kept_and_post_init_runs():
    @records.dataclass(frozen=True)
    class Tagged:
        """Tagged."""

        name: str
        seen: list = dataclasses.field(default_factory=list)

        def __post_init__(self):
            self.seen.append(self.name)

        def __repr__(self) -> str:
            return f"<{self.name}>"

    t = Tagged("a")
    assert t.seen == ["a"] and repr(t) == "<a>"


def test_copy_and_pickle():
    b = RecPoint(1, 2, ["t"], "n")
    assert copy.copy(b) == b and copy.deepcopy(b) == b
    globals()["RecPoint_pickled"] = RecPoint
    RecPoint.__qualname__ = "RecPoint_pickled"
    try:
        assert pickle.loads(pickle.dumps(b)) == b
    finally:
        RecPoint.__qualname__ = "Point"


def test_the_catalog_classes_are_records_without_generated_code():
    """The value classes a build imports use it: no dataclass there compiles methods at import."""
    from dashgen.catalog.model import Catalog, Stage

    for cls in (Catalog, Stage):
        assert dataclasses.is_dataclass(cls)
        assert cls.__init__.__code__.co_filename == records.__file__
        assert cls.__hash__.__code__.co_filename == records.__file__


def test_a_derived_value_is_computed_once_per_record_and_stays_out_of_its_identity():
    calls = []

    @records.derived
    def spread(point) -> int:
        calls.append(point)
        return point.x - point.y

    a, b = RecPoint(5, 2, ()), RecPoint(5, 2, ())
    assert spread(a) == 3 and spread(a) == 3
    assert calls == [a]  # once per record
    assert spread(b) == 3 and len(calls) == 2  # an equal record keeps its own
    assert a == b and hash(a) == hash(b) == hash(RecPoint(5, 2, ())) and repr(a) == repr(RecPoint(5, 2, ()))
    assert dataclasses.asdict(a) == dataclasses.asdict(RecPoint(5, 2, ()))
    assert spread.__name__ == "spread" and spread.__wrapped__(a) == 3


def test_what_the_catalog_derives_is_kept_once_per_catalog():
    """Panels and rules ask per stage for what the catalog implies (interrupted turns, its
    attributes); each is walked out of the catalog once, which keeps a build linear in stages."""
    from dashgen.catalog.load import load_catalog
    from dashgen.voice.interrupted import interruption

    catalog = load_catalog("default")
    assert interruption(catalog) is interruption(catalog)
    assert catalog.span_attributes() is catalog.span_attributes()
    assert interruption(load_catalog("default")) == interruption(catalog)
