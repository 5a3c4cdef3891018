"""A plain grafanalib 0.7.1 dashboard, as a grafanalib repository already has it.

Nothing here knows about dashgen: it is grafanalib's ``*.dashboard.py`` convention (a
module-level ``dashboard``), in the style of grafanalib's README example. dashgen builds it
unchanged into current Grafana JSON: its datasource names become the catalog's datasource
variables, panel ids come from panel titles, the panels without a gridPos are laid out on
the grid, and the dashboard lands in the catalog's folder with its tags and ownership marker.
"""

from grafanalib.core import (
    MILLISECONDS_FORMAT, OPS_FORMAT, Dashboard, GridPos, RowPanel, Stat, Target, Threshold, TimeSeries,
)

dashboard = Dashboard(
    title="Voice latency (grafanalib)",
    description="First-byte latency per stage from the Prometheus histograms, written with grafanalib.",
    tags=["grafanalib"],
    timezone="browser",
    panels=[
        RowPanel(title="Prometheus", gridPos=GridPos(h=1, w=24, x=0, y=0)),
        TimeSeries(
            title="First byte p95 by stage",
            description="p95 of time to first byte per stage, over 5 minutes.",
            dataSource="Prometheus",
            targets=[
                Target(
                    expr="histogram_quantile(0.95, sum by (le, audio_stage) "
                         "(rate(audio_first_byte_milliseconds_bucket[5m])))",
                    legendFormat="{{ audio_stage }}",
                    refId="A",
                ),
            ],
            unit=MILLISECONDS_FORMAT,
            gridPos=GridPos(h=8, w=16, x=0, y=1),
        ),
        Stat(
            title="Turns per second",
            description="Voice turns per second, all stages.",
            dataSource="Prometheus",
            targets=[Target(expr="sum(rate(audio_stage_runs_total[5m]))", refId="A")],
            format=OPS_FORMAT,
            thresholds=[Threshold("green", 0, 0.0), Threshold("red", 1, 100.0)],
            gridPos=GridPos(h=8, w=8, x=16, y=1),
        ),
        TimeSeries(
            title="Stage errors per second",
            description="Failed stage runs per second, by stage (no gridPos: dashgen lays it out).",
            dataSource="Prometheus",
            targets=[Target(expr="sum by (audio_stage) (rate(audio_stage_errors_total[5m]))",
                            legendFormat="{{ audio_stage }}", refId="A")],
            unit=OPS_FORMAT,
        ),
    ],
).auto_panel_ids()
