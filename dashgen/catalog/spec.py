"""The catalog's keys, declared once: types, defaults, patterns and the docs of every key.

``load`` walks a document with these specs (``yamlspec`` reports every problem at its line
and column), and ``docs`` generates the README's catalog reference from the same ``doc``
strings, so the reference cannot miss a key. Checks that need several keys at once live in
``load``; names, units and patterns shared with the rest of dashgen come from ``conventions``.

Alerts run on Prometheus histograms of the same measurements the traces carry (recorded by
the application's OpenTelemetry SDK, or derived from spans by the Collector's
``signaltometrics`` connector). Each measurement names its histogram in a ``metric`` block;
left out, it follows OpenTelemetry's Prometheus naming (``conventions.prometheus_name``). The
one label is the stage (``audio.stage`` -> ``audio_stage``): a session id is never a metric label.

Who records a metric is part of the catalog (``alerting.source``, ``metric.source``): the
application's SDK (``dashgen.telemetry.instrument``), the generated Collector bridge (from the spans),
or the framework itself under its own name and labels (LiveKit's ``lk.agents.turn.*``
histograms, which carry no stage label). Rules read what that source really writes.
"""

from __future__ import annotations

from .conventions import (DURATION_PATTERN, LABEL_NAME_PATTERN, METRIC_NAME_PATTERN, METRIC_SOURCES, UID_HINT,
                          UID_PATTERN, UNITS)
from .yamlspec import BLOCK_DEFAULTS, Bool, Enum, Field, ListOf, Map, Num, Str

# A TraceQL attribute name we can write unquoted: dot-separated words. Grafana's TraceQL
# grammar (lezer-traceql) reads a first word that merely starts with a scope or keyword
# (``span.parent_id``, ``span.links``, ``span.with_x``) as that keyword and rejects the query.
TRACEQL_RESERVED_PREFIXES = ("span", "resource", "event", "instrumentation", "link", "parent", "with")
ATTRIBUTE_RE = r"(?!(?:" + "|".join(TRACEQL_RESERVED_PREFIXES) + r"))[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*"
SCOPED_ATTRIBUTE_RE = r"(span|resource)\." + ATTRIBUTE_RE
ID_RE = r"[a-z][a-z0-9_]{0,30}"
SPAN_NAME_RE = r"[A-Za-z0-9_.:/ -]{1,100}"
LABEL_NAME_RE = r"(?!__)(?!le$)" + LABEL_NAME_PATTERN  # le is the bucket label of every histogram

SEVERITIES = ("page", "ticket")
# The part a stage plays in a voice turn (what each one means: dashgen.voice.roles).
STAGE_ROLES = ("speech_to_text", "generation", "text_to_speech", "playback", "barge_in", "turn", "custom")
PANEL_KINDS = ("quantiles", "average", "heatmap", "bad_rate")
DEFAULT_QUANTILES = (0.5, 0.95, 0.99)

ATTR_HINT = ("use dot-separated words of letters, digits and _ (e.g. audio.first_byte_ms), the first word not "
             "starting with " + ", ".join(TRACEQL_RESERVED_PREFIXES) + " (TraceQL reads those as keywords)")

_LABEL = Str(pattern=LABEL_NAME_RE, pattern_hint="a Prometheus label name: letters, digits, _", example="audio_stage")
_DUR = Str(pattern=DURATION_PATTERN, example="5m",
           pattern_hint="write a whole number above 0 and one unit of s, m, h or d, like 5m, 30s, 1h, 30d")


def _metric_name(example: str) -> Str:
    return Str(pattern=METRIC_NAME_PATTERN, pattern_hint="a Prometheus metric name: letters, digits, _ and :",
               example=example)


METRIC_SPEC = Map(
    doc="The Prometheus histogram that records the same measurement (for alert rules).",
    fields={
        "name": Field(_metric_name("audio_first_byte_milliseconds"), default=None,
                      doc="histogram name without _bucket/_count (default: the attribute per OpenTelemetry's "
                          "Prometheus naming, e.g. audio.first_byte_ms -> audio_first_byte_milliseconds)"),
        "source": Field(Enum(values=METRIC_SOURCES), default=None,
                        doc="who records it: sdk (the application, e.g. dashgen.telemetry.instrument), bridge (the "
                            "generated Collector connector, from the span attribute) or framework (the framework's own "
                            "metric: give its real name; default: alerting.source)"),
        "label": Field(_LABEL, default=None,
                       doc="label holding the stage id (default: alerting.stage_label; a framework metric: none, "
                           "it is one histogram per measurement); never a session id"),
        "labels": Field(ListOf(item=_LABEL), default=[],
                        doc="other labels the series carry (a framework's, e.g. model_name); queries sum them away"),
        "buckets": Field(ListOf(item=Num(example="350"), min_items=1), default=None,
                         doc="histogram bucket boundaries, increasing (default: OpenTelemetry's 0, 5, 10, 25, 50, 75, "
                             "100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000; for unit s its 0.005 ... 10 seconds "
                             "advice, plus every threshold compared with the histogram; a framework metric: the SDK "
                             "default whatever the unit, unless the application registers a View); an SLO threshold "
                             "must be one, a quantile threshold should be (else interpolated)"),
    },
)

SLO_SPEC = Map(
    doc="A latency SLO of the stage: objective share of measurements at or below threshold.",
    fields={
        "measurement": Field(Str(pattern=ID_RE, pattern_hint="a measurement id of this stage",
                                 example="first_byte"), required=True, doc="id of the measurement the SLO is about"),
        "objective": Field(Num(minimum=0, maximum=1, exclusive=True, example="0.95"), required=True,
                           doc="share of good measurements, e.g. 0.95"),
        "threshold": Field(Num(positive=True, example="350"), required=True,
                           doc="a measurement above this is a bad event; must be a bucket boundary of its metric"),
        "window": Field(_DUR, default="30d", doc="SLO window (default 30d); burn rates scale with it"),
    },
)

# The good-turn SLI (what it means: dashgen.voice.good_turn). Limits are in milliseconds whatever the
# unit of the measurements they judge, so the defaults hold for every convention.
GOOD_TURN_SPEC = Map(
    doc="The good-turn SLI: the share of turns that felt natural, and its SLO (dashgen.voice.good_turn).",
    fields={
        "latency_ms": Field(Num(positive=True, example="1500"), required=True,
                            doc="a turn whose caller-felt latency (end of the user's speech to the first agent audio) "
                                "is above this many milliseconds is not good (the bundled presets: 1500)"),
        "latency": Field(Str(pattern=ID_RE + r"\." + ID_RE, pattern_hint="<stage id>.<measurement id>",
                             example="turn.user_bot_latency"), default=None,
                         doc="the measurement that holds the caller-felt latency, as <stage>.<measurement> (default: "
                             "a turn-level e2e measurement, else the playback stage's first byte)"),
        "barge_in_silence_ms": Field(Num(positive=True, example="200"), default=200,
                                     doc="a turn with a barge-in whose outbound audio went silent later than this many "
                                         "milliseconds after VAD fired is not good (default 200; needs a barge-in "
                                         "stage whose last milestone has a limit)"),
        "objective": Field(Num(minimum=0, maximum=1, exclusive=True, example="0.95"), default=0.95,
                           doc="share of good turns the SLO asks for (default 0.95)"),
        "window": Field(_DUR, default="30d", doc="SLO window (default 30d); burn rates scale with it"),
        "attribute": Field(Str(pattern=ATTRIBUTE_RE, pattern_hint=ATTR_HINT, example="voice.turn.good"),
                           default="voice.turn.good",
                           doc="integer attribute (1 good, 0 not) the instrumentation sets on the turn span when the "
                               "turn ends (default voice.turn.good)"),
        "counters": Field(Map(fields={
            "turns": Field(_metric_name("voice_turns_judged_total"), default=None,
                           doc="counter of judged turns (default <ns>_turns_judged_total)"),
            "good": Field(_metric_name("voice_turns_good_total"), default=None,
                          doc="counter of good turns (default <ns>_turns_good_total)"),
        }, doc="The counters the good-turn SLO divides."), default=BLOCK_DEFAULTS,
                          doc="counter names (defaults follow the stage attribute's first word, like alerting.counters)"),
    },
)

def _rate_alert(what: str, for_: str, severity: str) -> Map:
    """A ratio alert per stage; its defaults are those of the whole block left out."""
    return Map(
        doc=f"The {what}-rate alert per stage; a key left out takes its default.",
        fields={
            "above": Field(Num(minimum=0, maximum=1, exclusive=True, example="0.05"), default=0.05,
                           doc="alert when the ratio goes above this (0-1; default 0.05)"),
            "for": Field(_DUR, default=for_, doc=f"how long the ratio must stay above (default {for_})"),
            "severity": Field(Enum(values=SEVERITIES), default=severity, doc=f"page or ticket (default {severity})"),
        },
    )


ALERTING_SPEC = Map(
    doc="How alert rules are generated.",
    fields={
        "team": Field(Str(pattern=r"[A-Za-z0-9_.-]{1,60}", pattern_hint="letters, digits, _ . -", example="voice"),
                      default="voice", doc="value of the team label on every rule (default voice)"),
        "receiver": Field(Str(example="voice-oncall"), default=None,
                          doc="contact point (Grafana) or receiver (Alertmanager) of the pages in the generated "
                              "routing, alerts/routing/ (default <team>-page)"),
        "runbook_url": Field(Str(pattern=r"https?://\S+", pattern_hint="an http(s) URL", example="https://runbooks.example.com/voice"),
                             default="https://runbooks.example.com/voice-agent",
                             doc="base URL of the runbooks; each rule links <base>#<rule uid>"),
        "interval": Field(_DUR, default="1m", doc="evaluation interval of every rule group (multiple of 10s)"),
        "rate_window": Field(_DUR, default="5m", doc="rate() window of the latency and ratio alerts"),
        "source": Field(Enum(values=METRIC_SOURCES[:2]), default="sdk",
                        doc="who records the histograms and counters the rules read: sdk (the application's "
                            "OpenTelemetry SDK, e.g. dashgen.telemetry.instrument; default) or bridge (the generated "
                            "Collector connector derives them from the spans, for frameworks that only trace)"),
        "stage_label": Field(_LABEL, default=None, doc="metric label holding the stage id (default: the stage attribute with "
                                               "dots as _, e.g. audio_stage; stage without one)"),
        "counters": Field(
            Map(fields={
                "runs": Field(_metric_name("audio_stage_runs_total"), default=None,
                              doc="counter of stage runs (default <ns>_stage_runs_total, ns = the stage attribute's "
                                  "first word)"),
                "errors": Field(_metric_name("audio_stage_errors_total"), default=None,
                                doc="counter of failed stage runs (default <ns>_stage_errors_total)"),
                "nothing": Field(_metric_name("audio_stage_nothing_total"), default=None,
                                 doc="counter of stage runs that produced nothing (default <ns>_stage_nothing_total)"),
            }, doc="Counters, labelled by stage, behind the error and produced-nothing rates."),
            default=BLOCK_DEFAULTS, doc="counter metric names (defaults follow the stage attribute)"),
        "error_rate": Field(_rate_alert("error", "5m", "page"), default=BLOCK_DEFAULTS,
                            doc="error-rate alert per stage (default above 0.05 for 5m, page)"),
        # A stage that produced nothing is rarely an outage: its default waits longer and opens a ticket.
        "nothing_rate": Field(_rate_alert("produced-nothing", "10m", "ticket"), default=BLOCK_DEFAULTS,
                              doc="produced-nothing-rate alert per stage with a nothing_value (default above 0.05 "
                                  "for 10m, ticket)"),
        "tempo_rules": Field(Bool(), default=False,
                             doc="also emit Grafana-managed TraceQL rules on Tempo (needs Grafana 12.1+ with the "
                                 "tempoAlerting feature toggle, which push checks, and Tempo 2.5+ for "
                                 "quantile_over_time; default false)"),
        "min_events": Field(Num(integer=True, minimum=0, example="10"), default=10,
                            doc="fewest events (stage runs, measurements) a window must hold before its ratio, "
                                "quantile or burn rate may alert; fewer and the rule stays silent (default 10; "
                                "0 turns the guard off)"),
        "absence": Field(Map(fields={
            "for": Field(_DUR, default="15m", doc="how long telemetry must be missing before the alert fires"),
            "severity": Field(Enum(values=SEVERITIES), default="ticket", doc="page or ticket (default ticket)"),
        }, doc="The alerts on missing data."), default=BLOCK_DEFAULTS,
                         doc="alerts on absent data: a stage's run counter missing, turns per second dropped to "
                             "zero (default for 15m, ticket)"),
        "grafana_recording_rules": Field(Enum(values=("auto", True, False)), default="auto",
                                         doc="the SLO recording rules in the Grafana-managed forms too (the Prometheus "
                                             "form always has them). They need Grafana's experimental "
                                             "grafanaManagedRecordingRules feature toggle, off by default: auto (the "
                                             "default) writes them and `push` sends them where the toggle is on, "
                                             "leaving them out with a notice elsewhere; true makes `push` refuse "
                                             "(exit 2) an instance without the toggle; false never writes them"),
    },
)

TEMPO_SPEC = Map(
    doc="The Tempo the dashboards query: what its TraceQL metrics can do and how long a range it accepts.",
    fields={
        "version": Field(Str(pattern=r"[1-9][0-9]*\.[0-9]+", pattern_hint='a Tempo version as "major.minor", quoted, '
                                                                           'e.g. "2.6"', example='"2.6"'),
                         default="2.6", doc="the oldest Tempo version the dashboards must work on, quoted (default "
                                            '"2.6"); lint flags TraceQL features newer than it'),
        "metrics_max_range": Field(_DUR, default="3h",
                                   doc="the longest range Tempo's query-frontend accepts for a TraceQL metrics query "
                                       "(query_frontend.metrics.max_duration: 3h in Tempo 2.x, 24h from 3.0; "
                                       "default 3h); every dashboard's default time range fits inside it"),
    },
)

FRAMEWORK_SPEC = Map(
    doc="The framework version the catalog describes: the names it reads are the ones that version emits.",
    fields={
        "name": Field(Str(pattern=r"[a-z][a-z0-9-]*", pattern_hint="a framework package name, e.g. livekit-agents",
                          example="livekit-agents"), required=True, doc="the framework package, e.g. livekit-agents"),
        "version": Field(Str(pattern=r"[0-9]+\.[0-9]+", pattern_hint='a version as "major.minor", quoted, e.g. "1.7"',
                             example='"1.7"'), required=True,
                         doc='the release line, "major.minor" (quoted), whose names the catalog reads'),
    },
)

PROMETHEUS_SPEC = Map(
    doc="The scope of every PromQL query: extra label matchers (job, env, cluster...).",
    fields={
        "matchers": Field(ListOf(item=Map(fields={
            "label": Field(Str(pattern=LABEL_NAME_RE, pattern_hint="a Prometheus label name", example="env"),
                           required=True, doc="label name, e.g. env"),
            "value": Field(Str(example="prod"), required=True,
                           doc="the value the alert rules match exactly; also the default of the dashboard variable"),
        }, doc="One label matcher."), unique_by="label"), default=[],
                          doc="label matchers added to every alert rule (label=\"value\") and every PromQL panel "
                              "(label=~\"$label\", a dashboard variable defaulting to the value)"),
    },
)

_THRESHOLD = Map(
    doc="A p-quantile threshold: the value the quantile must stay below.",
    fields={
        "quantile": Field(Num(minimum=0, maximum=1, exclusive=True, example="0.95"), default=0.95,
                          doc="which quantile is watched, between 0 and 1 (default 0.95)"),
        "value": Field(Num(positive=True, example="350"), required=True,
                       doc="the limit, in the measurement's unit; must be positive"),
        "severity": Field(Enum(values=SEVERITIES), default="page", doc="page or ticket"),
        "for": Field(_DUR, default="5m", doc="how long the quantile must stay above before the alert fires"),
    },
)

_MEASUREMENT = Map(
    doc="One numeric span attribute of a stage.",
    fields={
        "id": Field(Str(pattern=ID_RE, pattern_hint="use lower-case letters, digits and _ (max 31), e.g. first_byte",
                        example="first_byte"), required=True, doc="stable key, used in panel keys and uids"),
        "attribute": Field(Str(pattern=ATTRIBUTE_RE, pattern_hint=ATTR_HINT, example="audio.first_byte_ms"),
                           required=True, doc="span attribute name (without the span. scope)"),
        "title": Field(Str(example='"First byte"'), required=True, doc="human name, used in panel titles"),
        "unit": Field(Enum(values=tuple(UNITS)), required=True, doc="one of " + ", ".join(UNITS)),
        "integer": Field(Bool(), default=True,
                         doc="true when emitted as an integer; Tempo quantiles drop float attributes"),
        "meaning": Field(Str(example='"time to the first partial transcript"'), required=True,
                         doc="what the number means; goes into panel descriptions"),
        "nothing_value": Field(Num(integer=True, example="-1"), default=None,
                               doc="the value that means the stage produced nothing (e.g. -1); excluded from quantiles"),
        "thresholds": Field(ListOf(item=_THRESHOLD), default=[], doc="quantile thresholds (p95 paging lines)"),
        "bad_above": Field(Num(positive=True, example="150"), default=None,
                           doc="an event above this value counts as bad (a stutter, a large revision)"),
        "bad_name": Field(Str(example='"stutters"'), default=None,
                          doc="plural name of such bad events, e.g. stutters"),
        "metric": Field(METRIC_SPEC, default=BLOCK_DEFAULTS,
                        doc="the Prometheus histogram of this measurement, for alert rules (name, label, buckets)"),
        "quantiles": Field(ListOf(item=Num(minimum=0, maximum=1, exclusive=True, example="0.95"), min_items=1),
                           default=None, doc="quantiles its panel shows (default 0.5, 0.95, 0.99)"),
        "panels": Field(ListOf(item=Enum(values=PANEL_KINDS), min_items=1), default=None,
                        doc="which panels the stage dashboard gets for it: " + ", ".join(PANEL_KINDS)
                            + " (default: quantiles, plus heatmap and bad_rate when bad_above is set)"),
    },
)

_FLAG = Map(
    doc="A boolean span attribute of a stage (an interrupted turn).",
    fields={
        "id": Field(Str(pattern=ID_RE, pattern_hint="lower-case letters, digits and _", example="interrupted"),
                    required=True, doc="stable key, used in panel keys"),
        "attribute": Field(Str(pattern=ATTRIBUTE_RE, pattern_hint=ATTR_HINT, example="turn.was_interrupted"),
                           required=True, doc="boolean span attribute name (without the span. scope)"),
        "title": Field(Str(example='"Interrupted turns"'), required=True, doc="human name (plural), used in titles"),
        "meaning": Field(Str(example='"the user talked over the agent"'), required=True,
                         doc="what true means; goes into the panel description"),
    },
)

_STAGE = Map(
    doc="One stage of the voice pipeline, traced as its own span.",
    fields={
        "id": Field(Str(pattern=ID_RE, pattern_hint="use lower-case letters, digits and _, e.g. tts", example="tts"),
                    required=True, doc="stage id, also the value of the stage attribute; not overview, session, alerts, "
                                      "slo or <alerts|slo>_page_<n>, the keys of dashgen's other dashboards"),
        "span": Field(Str(pattern=SPAN_NAME_RE, pattern_hint="letters, digits and . _ : / - only", example="audio.tts"),
                      required=True, doc="span name of the stage (audio.<stage>)"),
        "title": Field(Str(example='"TTS (text to speech)"'), required=True, doc="human title of the stage"),
        "first_byte": Field(Str(example='"first playable audio chunk"'), required=True,
                            doc='what "first byte" means for this stage'),
        "description": Field(Str(example='"..."'), default="", doc="optional longer text for the stage dashboard"),
        "measurements": Field(ListOf(item=_MEASUREMENT, min_items=1, unique_by="id"), required=True,
                              doc="the stage's numeric attributes, in display order"),
        "flags": Field(ListOf(item=_FLAG, unique_by="id"), default=[],
                       doc="boolean span attributes of the stage, shown as the share of its spans where true"),
        "role": Field(Enum(values=STAGE_ROLES), default=None,
                      doc="the part the stage plays in a turn: speech_to_text, generation, text_to_speech, playback "
                          "(the client playing the agent's audio), barge_in (the user talking over the agent), turn "
                          "(the stage whose span is the turn span) or custom (anything else, e.g. a retrieval "
                          "step); it chooses the barge-in dashboard, the caller-felt latency and the simulator's "
                          "timeline (default: turn for the stage whose span is convention.turn_span, else custom)"),
        "critical_path": Field(Bool(), default=None,
                               doc="whether the stage's first byte is a step of the latency the caller feels, between "
                                   "the end of the user's speech and the agent's first audio: such stages add up, in "
                                   "catalog order, in the session drilldown's per-turn bars (default: true for "
                                   "speech_to_text, generation and text_to_speech, false for the others)"),
        "in_turn": Field(Bool(), default=True,
                         doc="whether the stage's span is inside the turn span (a descendant of "
                             "convention.turn_span, its turn id on the span or an ancestor); false for a stage of "
                             "the session outside any turn, e.g. LiveKit's user_turn, which ends before the "
                             "agent_turn it starts, and user_speaking, both children of agent_session: "
                             "verify-traces then looks for the session span above it, and for no turn id"),
        "records_errors": Field(Bool(), default=True,
                                doc="whether the stage span marks a failure (status ERROR or the error attribute); false (e.g. "
                                    "LiveKit's llm_node, Pipecat's stt/tts) drops its error-rate alert, which "
                                    "could never fire, and the Collector bridge's errors counter for it"),
        "slo": Field(SLO_SPEC, default=None,
                     doc="optional latency SLO; dashgen adds burn-rate alerts, their recording rules and the SLO "
                         "dashboard"),
    },
)

_DATASOURCE = Map(
    doc="A datasource the dashboards use through a datasource variable.",
    fields={
        "name": Field(Str(example="Tempo"), required=True, doc="datasource name in Grafana; push resolves it"),
        "uid": Field(Str(pattern=UID_PATTERN, pattern_hint=UID_HINT, example="tempo"),
                     required=True, doc="default uid written into the output; push replaces it with the live one"),
        "variable": Field(Str(pattern=r"[a-z][a-z0-9_]*", pattern_hint="lower-case letters, digits, _", example="tempo"),
                          required=True, doc="name of the dashboard datasource variable"),
    },
)

CATALOG_SPEC = Map(
    doc="The stage catalog.",
    fields={
        "catalog": Field(Enum(values=(1,)), required=True, doc="format version; always 1"),
        "name": Field(Str(pattern=ID_RE, pattern_hint="lower-case letters, digits, _", example="audio"), required=True,
                      doc="short name of the convention"),
        "title": Field(Str(example='"Voice agent"'), required=True, doc="human title, shown in dashboard descriptions"),
        "notes": Field(Str(example='"..."'), default="", doc="free text about the convention, shown on the overview"),
        "convention": Field(
            Map(
                fields={
                    "session_attribute": Field(Str(pattern=ATTRIBUTE_RE, pattern_hint=ATTR_HINT, example="audio.session_id"),
                                               required=True, doc="span attribute with the session id"),
                    "turn_attribute": Field(Str(pattern=ATTRIBUTE_RE, pattern_hint=ATTR_HINT, example="audio.turn_id"),
                                            required=True, doc="span attribute with the turn id"),
                    "stage_attribute": Field(Str(pattern=ATTRIBUTE_RE, pattern_hint=ATTR_HINT, example="audio.stage"),
                                             default=None,
                                             doc="span attribute holding the stage id; leave out to tell stages by span name"),
                    "error_attribute": Field(Str(pattern=ATTRIBUTE_RE, pattern_hint=ATTR_HINT, example="audio.error"),
                                             default=None, doc="boolean span attribute set to true on failure; a stage error is span "
                                                 "status ERROR or this attribute true (docs/metrics.md)"),
                    "turn_span": Field(Str(pattern=SPAN_NAME_RE, pattern_hint="a span name", example="voice.turn"),
                                       required=True, doc="name of the parent span of one turn"),
                    "session_on_stage_spans": Field(Bool(), default=True,
                                                    doc="true when every stage span carries the session attribute; "
                                                        "false when only an ancestor span does (then session "
                                                        "lookups select its descendants)"),
                    "session_span": Field(Str(pattern=SPAN_NAME_RE, pattern_hint="a span name", example="conversation"),
                                          default=None,
                                          doc="name of the span that carries the session id when stage spans do "
                                              "not (needed with session_on_stage_spans: false)"),
                    "attributes": Field(ListOf(item=Str(pattern=ATTRIBUTE_RE, pattern_hint=ATTR_HINT,
                                                        example="gen_ai.provider.name")),
                                        default=[],
                                        doc="other span attributes your own dashboards filter or group by (the "
                                            "TraceQL builder and lint accept only declared attributes)"),
                    "service_attribute": Field(Str(pattern=SCOPED_ATTRIBUTE_RE,
                                                   pattern_hint="a scoped attribute, e.g. resource.service.name",
                                                   example="resource.service.name"),
                                               default=None, doc="optional service filter attribute (scoped)"),
                    "interrupted_attribute": Field(Str(pattern=ATTRIBUTE_RE, pattern_hint=ATTR_HINT,
                                                       example="audio.interrupted"),
                                                   default="audio.interrupted",
                                                   doc="boolean span attribute, true on a turn the user interrupted "
                                                       "(default audio.interrupted); such a turn's latencies are left "
                                                       "out of the latency panels, quantile alerts and SLOs "
                                                       "(docs/alerts.md, \"Interrupted turns\"); the spans it is read "
                                                       "on must carry it on every turn, false when not interrupted "
                                                       "(Tempo drops a span that lacks it from a != comparison)"),
                    "interrupted_on_stage_spans": Field(Bool(), default=True,
                                                        doc="true when every stage span carries the interrupted "
                                                            "attribute; false when only the turn span does "
                                                            "(LiveKit's agent_turn, Pipecat's turn): then only the "
                                                            "turn stage's latencies leave interrupted turns out"),
                },
                doc="Attribute and span names shared by all stages.",
            ),
            required=True,
        ),
        "grafana": Field(
            Map(
                fields={
                    "folder": Field(
                        Map(fields={
                            "uid": Field(Str(pattern=UID_PATTERN, pattern_hint=UID_HINT,
                                             example="voice-agent"), required=True, doc="folder uid"),
                            "title": Field(Str(example='"Voice agent"'), required=True, doc="folder title"),
                        }),
                        required=True,
                        doc="the Grafana folder that holds the dashboards and rules",
                    ),
                    "uid_prefix": Field(Str(pattern=r"[a-z][a-z0-9-]{0,15}", pattern_hint="lower-case, digits, -, at most 16",
                                            example="voice"), required=True, doc="prefix of every dashboard and rule uid"),
                    "tags": Field(ListOf(item=Str(pattern=r"[A-Za-z0-9_.:-]{1,50}", pattern_hint="a short tag", example="voice")),
                                  default=[], doc="tags on every dashboard (dashgen adds its own)"),
                    "datasources": Field(
                        Map(fields={"tempo": Field(_DATASOURCE, required=True, doc="the Tempo datasource"),
                                    "prometheus": Field(_DATASOURCE, required=True, doc="the Prometheus datasource")}),
                        required=True,
                        doc="datasources, by role",
                    ),
                },
                doc="Where and how the output lands in Grafana.",
            ),
            required=True,
        ),
        "stages": Field(ListOf(item=_STAGE, min_items=1, unique_by="id"), required=True,
                        doc="the pipeline stages, in pipeline order"),
        "alerting": Field(ALERTING_SPEC, default=BLOCK_DEFAULTS,
                          doc="alert rule settings: team, receiver, runbooks, interval, rate thresholds, TraceQL switch"),
        "tempo": Field(TEMPO_SPEC, default=BLOCK_DEFAULTS, doc="the oldest Tempo supported and its metrics range limit"),
        "prometheus": Field(PROMETHEUS_SPEC, default=BLOCK_DEFAULTS, doc="extra label matchers of every PromQL query"),
        "definitions": Field(ListOf(item=Str(example='"dashboards/*.py"')), default=[],
                             doc="Python files adding dashboards of your own: paths or globs relative to this "
                                 "catalog, run at build time (docs/extending.md)"),
        "framework": Field(FRAMEWORK_SPEC, default=None,
                           doc="the framework version whose span and attribute names the catalog reads "
                               "(docs/frameworks.md): verify-traces names the renames recorded for it"),
        "good_turn": Field(GOOD_TURN_SPEC, default=None,
                           doc="optional good-turn SLI and SLO: the share of turns whose caller-felt latency is under a "
                               "limit, whose barge-in (if any) went silent in time, and that neither failed nor "
                               "produced nothing; dashgen adds its recording rules, burn-rate alerts, an overview tile "
                               "and a per-session score"),
    },
)
