"""``dashgen diff``: what changes between two builds, at the level a reviewer thinks in.

Pure: two ``{relative path: file content}`` maps (a build output: ``build_artifacts`` or
``artifacts.read_output``) in, a structured :class:`Diff` out. Nothing here reads files or
runs git (``gitref`` does); the wording lives here, the layout in ``templates/diff/``.

Identity, so that renames read as renames and not as remove + add:

* dashboards by ``uid`` (a title change is a rename, a path change a folder move);
* panels by ``id`` (ids are stable hashes of panel keys): a changed ``gridPos`` is a move or
  a resize, a changed title a retitle; queries by ``refId``; thresholds are
  ``fieldConfig.defaults.thresholds.steps``, the unit ``fieldConfig.defaults.unit``;
* variables by name in ``templating.list``;
* Grafana alert rules by ``uid`` across every group file (``alerts/grafana/<folder>/<group>.json``
  rule-group bodies and ``alerts/provisioning/<group>.yaml``); Prometheus rules by alert or record name.

Anything that changed and has no dedicated wording is still reported, as the JSON paths
that differ ("other settings"), so "no changes" always means the files are identical
in content.

Modules, in the order the data flows: ``model`` (Change, Section, Diff), ``leaves`` (values
and the generic wording), ``dashboards``, ``rules`` (Grafana and Prometheus forms),
``outputs`` (two builds -> one Diff), ``formats`` (markdown, text, json).
"""

from .formats import FORMATS, format_diff
from .model import Change, Diff, Section
from .outputs import diff_outputs

__all__ = ["FORMATS", "Change", "Diff", "Section", "diff_outputs", "format_diff"]
