"""``dashgen verify-traces``: check exported spans against the catalog the dashboards are built from.

Rules (each reported with a count and one example span id):

- ``stage-spans``: the file has stage spans at all (a wrong catalog finds none);
- ``stage-attribute``: with a stage attribute in the convention, every stage span carries it, with a stage id;
- ``session-id`` / ``turn-id``: every stage span carries them (or, with ``session_on_stage_spans: false``,
  the span or one of its ancestors does); a stage of the session outside any turn (``in_turn: false``) has
  no turn id to carry;
- ``under-turn``: every stage span has the turn span among its ancestors (the stage that *is* the turn span
  is exempt); a stage with ``in_turn: false`` has the session span (``convention.session_span``) instead,
  as LiveKit Agents starts ``user_turn`` and ``user_speaking`` under ``agent_session``, beside the
  ``agent_turn`` they lead to;
- ``required``: a measurement with a ``nothing_value`` (first byte) is on every span of its stage; any other
  measurement must be on the stage's spans that produced something, and is a violation when none of them
  carries it (the application never emits it). Spans that lack it while others have it are counted as a note;
- ``integer``: integer measurements are integers (``intValue``): a float (``doubleValue``) or string is dropped
  by Tempo's quantiles;
- ``range``: integer measurements are at least 2 (0 and 1 are dropped by Tempo's quantiles) or the nothing
  value; no measurement is negative except the nothing value;
- ``names``: every span name and attribute the catalog reads is somewhere in the file. A name the
  file lacks while it has a close one (``difflib``: a framework release renamed it, LiveKit Agents
  warns that existing dashboards then "no longer match and don't raise an error") is a violation
  naming both, with an example span carrying the near-miss; a name the file lacks with nothing
  close is a note (the capture may not exercise that stage or that failure);
- ``required`` also: the catalog's interrupted attribute (``voice.interrupted``) is a boolean on every span
  it is read on (the latency queries keep spans where it ``!= true``, which Tempo evaluates as false on a
  span without it);
- ``good-turn``: with a ``good_turn`` SLI in the catalog, the verdict on each turn span (1 good, 0 not) is
  the one ``voice.good_turn`` gives from the turn's spans; a turn span without it is a note (the
  application does not judge its turns, and the good-turn SLO has nothing to count);
- ``milestones``: a barge-in's milestones (VAD confirmed, cancelled, silent) count from one zero, the moment
  VAD fires, so on a span they never decrease in milestone order (a later milestone smaller than an earlier
  one means they were timed from different starts).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from ..catalog.frameworks import recorded_rename
from ..catalog.model import Catalog, Stage
from ..voice.barge_in import applies, milestones
from ..voice.errors import stage_error
from ..voice.good_turn import GOOD, NOT_GOOD, sli as good_turn_sli
from ..voice.interrupted import interruption
from .otlp_json import SpanRecord, Value

RULES = (
    ("stage-spans", "stage spans found"),
    ("stage-attribute", "stage attribute on every stage span"),
    ("session-id", "session id on every stage span"),
    ("turn-id", "turn id on every stage span in a turn"),
    ("under-turn", "every stage span under a turn span (a session stage, in_turn: false: under the session span)"),
    ("required", "required attributes per stage"),
    ("integer", "integer types where Tempo's quantiles need them"),
    ("range", "values of at least 2, or the nothing value"),
    ("milestones", "barge-in milestones from one zero (VAD firing)"),
    ("good-turn", "the good-turn verdict on every turn span, as its spans give it"),
    ("names", "every span name and attribute the catalog reads is in the file"),
)
NEAR_MISS_CUTOFF = 0.6  # difflib ratio: lk.response.ttft vs lk.response.time_to_first_token is a miss


@dataclass
class Finding:
    message: str
    count: int = 0
    example: str = ""


@dataclass
class Report:
    spans: int = 0
    turn_spans: int = 0
    stage_spans: dict[str, int] = field(default_factory=dict)
    checked: dict[str, int] = field(default_factory=dict)  # rule -> spans checked
    violations: dict[str, dict[str, Finding]] = field(default_factory=dict)  # rule -> message -> finding
    notes: dict[str, Finding] = field(default_factory=dict)

    def add(self, rule: str, message: str, span_id: str) -> None:
        f = self.violations.setdefault(rule, {}).setdefault(message, Finding(message))
        f.count += 1
        f.example = f.example or span_id

    def note(self, message: str, span_id: str) -> None:
        f = self.notes.setdefault(message, Finding(message))
        f.count += 1
        f.example = f.example or span_id

    @property
    def ok(self) -> bool:
        return not self.violations

    def count(self, rule: str) -> int:
        return sum(f.count for f in self.violations.get(rule, {}).values())

    def lines(self) -> list[str]:
        out = [f"{self.spans} spans: {self.turn_spans} turn spans, "
               + (", ".join(f"{n} {s}" for s, n in self.stage_spans.items()) or "no stage spans")]
        for rule, title in RULES:
            n = self.count(rule)
            if not n:
                out.append(f"ok    {rule}: {title} ({self.checked.get(rule, 0)} checked)")
                continue
            out.append(f"FAIL  {rule}: {title}: {n} violation(s)")
            for f in self.violations[rule].values():
                out.append(f"        {f.count} x {f.message} (e.g. span {f.example})")
        for f in self.notes.values():
            out.append(f"note  {f.count} x {f.message} (e.g. span {f.example})")
        return out


def _type_name(v: Value) -> str:
    return {"double": "a float (doubleValue)", "string": "a string", "bool": "a boolean"}.get(v.kind, v.kind)


def _shown(v: Value) -> str:
    return repr(v.value) if v.kind == "string" else f"{v.value}"


def _stage_of(span: SpanRecord, catalog: Catalog, by_span: dict[str, list[Stage]]) -> tuple[Stage | None, str | None]:
    """The stage a span belongs to, and a problem with its stage attribute (if any)."""
    sa = catalog.stage_attribute
    candidates = by_span.get(span.name, [])
    if sa:
        v = span.attributes.get(sa)
        if v is not None and v.kind == "string":
            try:
                return catalog.stage(v.value), None
            except KeyError:
                if candidates:
                    return (candidates[0] if len(candidates) == 1 else None,
                            f"{span.name}: {sa} = {v.value!r} is not a stage of the catalog")
                return None, None  # some other span that happens to carry the attribute
        if candidates:
            what = f"{sa} missing" if v is None else f"{sa} is {_type_name(v)}, not a string"
            return (candidates[0] if len(candidates) == 1 else None), f"{span.name}: {what}"
        return None, None
    if len(candidates) == 1:
        return candidates[0], None
    return None, None


def _check_milestones(rep: Report, catalog: Catalog, st: Stage, s: SpanRecord, where: str) -> None:
    if not applies(st, catalog):
        return
    values = [(m, s.attributes.get(m.attribute)) for m in milestones(st)]
    values = [(m, v.value) for m, v in values if v is not None and v.kind in ("int", "double")]
    if len(values) < 2:
        return
    rep.checked["milestones"] += 1
    for (a, va), (b, vb) in zip(values, values[1:]):
        if vb < va:
            rep.add("milestones", f"{where}: {b.attribute} ({vb}) is below {a.attribute} ({va}): every milestone "
                                  f"must count from the moment VAD fires", s.span_id)
            return


def read_names(catalog: Catalog) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """What the catalog reads: ``{span name: [who reads it]}`` and ``{attribute: [who reads it]}``
    (span attributes unscoped; the service attribute as its resource attribute)."""
    spans: dict[str, list[str]] = {catalog.turn_span: ["convention.turn_span"]}
    if catalog.session_span:
        spans.setdefault(catalog.session_span, []).append("convention.session_span")
    attrs: dict[str, list[str]] = {}
    for st in catalog.stages:
        spans.setdefault(st.span, []).append(f"stage {st.id}")
        for m in st.measurements:
            attrs.setdefault(m.attribute, []).append(f"{st.id}.{m.id}")
    for key, value in (("session_attribute", catalog.session_attribute), ("turn_attribute", catalog.turn_attribute),
                       ("stage_attribute", catalog.stage_attribute), ("error_attribute", catalog.error_attribute)):
        if value:
            attrs.setdefault(value, []).append(f"convention.{key}")
    for name in catalog.extra_attributes:
        attrs.setdefault(name, []).append("convention.attributes")
    # the good-turn verdict is the application's, never the framework's: the rule good-turn notes its absence
    own = {catalog.good_turn.attribute} if catalog.good_turn is not None else set()
    for name in sorted(catalog.span_attributes() - set(attrs) - own):
        attrs[name] = ["a stage's attributes"]
    svc = catalog.service_attribute
    if svc and svc.startswith("resource."):
        attrs.setdefault(svc.split(".", 1)[1], []).append("convention.service_attribute")
    return spans, attrs


def _check_names(rep: Report, spans: list[SpanRecord], catalog: Catalog) -> None:
    """The ``names`` rule: each name the catalog reads, present, renamed (a near-miss), or absent."""
    span_names: dict[str, str] = {}
    attr_names: dict[str, str] = {}
    for s in spans:
        span_names.setdefault(s.name, s.span_id)
        for k in (*s.attributes, *s.resource):
            attr_names.setdefault(k, s.span_id)
    wanted_spans, wanted_attrs = read_names(catalog)
    pin = catalog.framework
    for kind, wanted, have in (("span", wanted_spans, span_names), ("attribute", wanted_attrs, attr_names)):
        for name, readers in sorted(wanted.items()):
            rep.checked["names"] += 1
            if name in have:
                continue
            near = difflib.get_close_matches(name, [h for h in have if h not in wanted], n=1, cutoff=NEAR_MISS_CUTOFF)
            who = ", ".join(readers)
            if near:
                known = recorded_rename(pin.name, name, near[0]) if pin else None
                why = (f"{known} (the capture is from another {pin.name} release than the catalog's {pin.version}: "
                       f"use the catalog of the release it runs, docs/frameworks.md)" if known else
                       "renamed? (map the catalog to it, or pin the framework version it describes)")
                rep.add("names", f"{kind} {name!r} (read by {who}) is not in the file; it has {near[0]!r} instead: "
                                 f"{why}", have[near[0]])
            else:
                rep.note(f"{kind} {name!r} (read by {who}) is not in the file, nor anything close", "-")


def _check_good_turns(rep: Report, spans: list[SpanRecord], catalog: Catalog, by_span, ancestors) -> None:
    """The ``good-turn`` rule: each turn span's verdict against the one its own spans give."""
    g = good_turn_sli(catalog)
    if g is None:
        return
    under: dict[str, list[SpanRecord]] = {}
    for s in spans:
        turn = s if s.name == catalog.turn_span else next((a for a in ancestors(s) if a.name == catalog.turn_span), None)
        if turn is not None:
            under.setdefault(turn.span_id, []).append(s)
    for s in spans:
        if s.name != catalog.turn_span:
            continue
        outcomes = []
        for x in under.get(s.span_id, []):
            st, _ = _stage_of(x, catalog, by_span)
            if st is not None:
                outcomes.append(g.outcome(st, x.status_code, {k: v.value for k, v in x.attributes.items()}))
        want = g.judge(outcomes)
        got = s.attributes.get(g.spec.attribute)
        if got is None:
            if want is not None:
                rep.note(f"{s.name}: no {g.spec.attribute} (the turn is not judged, so the good-turn SLO cannot "
                         f"count it)", s.span_id)
            continue
        rep.checked["good-turn"] += 1
        expected = "none (not judged)" if want is None else GOOD if want else NOT_GOOD
        if got.kind != "int" or got.value not in (GOOD, NOT_GOOD) or got.value != expected:
            rep.add("good-turn", f"{s.name}: {g.spec.attribute} is {_shown(got)}, its spans give {expected} "
                                 f"({g.describe()})", s.span_id)


def verify(spans: list[SpanRecord], catalog: Catalog) -> Report:
    rep = Report(spans=len(spans))
    intr = interruption(catalog)
    for rule, _ in RULES:
        rep.checked[rule] = 0
    by_id = {s.span_id: s for s in spans}
    by_span: dict[str, list[Stage]] = {}
    for st in catalog.stages:
        by_span.setdefault(st.span, []).append(st)

    def ancestors(s: SpanRecord):
        seen = set()
        cur = by_id.get(s.parent_span_id)
        while cur is not None and cur.span_id not in seen:
            seen.add(cur.span_id)
            yield cur
            cur = by_id.get(cur.parent_span_id)

    def has_id(s: SpanRecord, attr: str, inherit: bool) -> bool:
        for x in ([s, *ancestors(s)] if inherit else [s]):
            v = x.attributes.get(attr)
            if v is not None and v.kind in ("string", "int") and str(v.value) != "":
                return True
        return False

    rep.turn_spans = sum(1 for s in spans if s.name == catalog.turn_span)
    present: dict[tuple[str, str], int] = {}  # (stage, measurement) -> producing spans carrying it
    missing: dict[tuple[str, str], list[str]] = {}
    producing: dict[str, int] = {}
    inherit = not catalog.session_on_stage_spans
    for s in spans:
        st, problem = _stage_of(s, catalog, by_span)
        if problem:
            rep.checked["stage-attribute"] += 1
            rep.add("stage-attribute", problem, s.span_id)
        if st is None:
            continue
        if not problem:
            rep.checked["stage-attribute"] += 1
        rep.stage_spans[st.id] = rep.stage_spans.get(st.id, 0) + 1
        where = f"{st.id} ({s.name})"
        ids = [("session-id", catalog.session_attribute)] + ([("turn-id", catalog.turn_attribute)] if st.in_turn else [])
        for rule, attr in ids:  # a stage of the session, outside any turn, has no turn id to carry
            rep.checked[rule] += 1
            if not has_id(s, attr, inherit):
                rep.add(rule, f"{where}: {'missing session id' if rule == 'session-id' else 'missing turn id'} "
                              f"({attr}{' on the span or an ancestor' if inherit else ''})", s.span_id)
        # the span it sits under: the turn span, or for a stage of the session (in_turn: false) the
        # session span when the convention has one
        above = catalog.turn_span if st.in_turn else catalog.session_span
        if st.span != catalog.turn_span and above:
            rep.checked["under-turn"] += 1
            if not any(a.name == above for a in ancestors(s)):
                parent = by_id.get(s.parent_span_id)
                why = ("no parent" if not s.parent_span_id else
                       f"parent {s.parent_span_id} not in the file" if parent is None else f"parent is {parent.name!r}")
                rep.add("under-turn", f"{where}: not under a {above!r} span ({why})", s.span_id)

        failed = stage_error(catalog).failed(s.status_code, {k: v.value for k, v in s.attributes.items()})
        fb = st.measurement("first_byte")
        fbv = s.attributes.get(fb.attribute) if fb is not None else None
        nothing = (fb is not None and fb.nothing_value is not None and fbv is not None and fbv.kind == "int"
                   and fbv.value == fb.nothing_value)
        produced = not failed and not nothing
        if produced:
            producing[st.id] = producing.get(st.id, 0) + 1
        for m in st.measurements:
            v = s.attributes.get(m.attribute)
            rep.checked["required"] += 1
            if v is None:
                if m.nothing_value is not None:
                    rep.add("required", f"{where}: {m.attribute} missing (it is {m.nothing_value} when the stage "
                                        f"produced nothing, never absent)", s.span_id)
                elif produced:
                    missing.setdefault((st.id, m.attribute), []).append(s.span_id)
                continue
            if produced:
                present[(st.id, m.attribute)] = present.get((st.id, m.attribute), 0) + 1
            if m.integer:
                rep.checked["integer"] += 1
                if v.kind != "int":
                    rep.add("integer", f"{where}: {m.attribute} is {_type_name(v)} ({_shown(v)}), the catalog says "
                                       f"integer: Tempo's quantiles drop it", s.span_id)
                    continue
            if v.kind not in ("int", "double"):
                rep.add("integer", f"{where}: {m.attribute} is {_type_name(v)} ({_shown(v)}), not a number",
                        s.span_id)
                continue
            rep.checked["range"] += 1
            val = v.value
            if m.nothing_value is not None and val == m.nothing_value:
                continue
            if val < 0:
                allowed = f"only {m.nothing_value} (nothing) may be negative" if m.nothing_value is not None \
                    else "it has no nothing value"
                rep.add("range", f"{where}: {m.attribute} has a negative value ({allowed})", s.span_id)
            elif m.integer and val < 2:
                rep.add("range", f"{where}: {m.attribute} is {val}: Tempo's quantiles drop values below 2 "
                                 f"(emit 2, or declare a finer unit)", s.span_id)
        if intr.carried_by(st) and any(intr.excludes(st, m) for m in st.measurements):
            v = s.attributes.get(intr.attribute)
            rep.checked["required"] += 1
            if v is None or v.kind != "bool":
                rep.add("required", f"{where}: {intr.attribute} {'missing' if v is None else 'is ' + _type_name(v)}: "
                                    f"the latency panels keep spans where it != true, and Tempo compares a missing "
                                    f"or non-boolean attribute as false, dropping the span (write false when the "
                                    f"turn was not interrupted)", s.span_id)
        _check_milestones(rep, catalog, st, s, where)
    for (sid, attr), ids in missing.items():
        if present.get((sid, attr)):
            for i in ids:
                rep.note(f"{sid}: {attr} missing on a span where other {sid} spans have it", i)
        else:
            for i in ids:
                rep.add("required", f"{sid}: {attr} never emitted ({producing.get(sid, 0)} spans that produced "
                                    f"something lack it)", i)
    _check_good_turns(rep, spans, catalog, by_span, ancestors)
    _check_names(rep, spans, catalog)
    rep.checked["stage-spans"] = len(spans)
    if not rep.stage_spans:
        names = ", ".join(sorted({s.span for s in catalog.stages}))
        rep.add("stage-spans", f"no span of the catalog's stages ({names}) in the file: is it the right catalog?",
                spans[0].span_id if spans else "-")
    return rep
