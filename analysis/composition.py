"""Building an AnalysisRun spec: templates merged, arguments resolved, ``{{args.x}}`` substituted.

Reference §6.3 to §6.5. Everything here is a pure function of inputs the caller has already
fetched (templates, the owning object as JSON, ReplicaSet hashes, Secret data), so the
controller shell does the reads and this module does the deciding:

* **Templates** are collected depth-first from the caller's references, following each
  template's own ``templates`` (a cycle is followed once, never forever); the shell calls
  :func:`missing_templates` until nothing is missing, then :func:`collect_templates`.
  :func:`new_run_spec` merges them: namespaced metrics first, then cluster ones.
* **Arguments** come in three stages, as upstream: Rollout-supplied args become plain values
  when the run is created (:func:`resolve_caller_args`); template args are merged with them
  (:func:`merge_args`); Secret-backed args stay references in the run and are filled in at
  measurement time (:func:`resolve_secret_args`), their values redacted from messages.
* **Templating** works, like Argo's, on the JSON text of a whole metric: every ``{{...}}`` must
  be ``args.<name>``; values are inserted JSON-escaped so they cannot break the document.
* **Rules** (``dryRun``, ``measurementRetention``) name metrics by unanchored RE2 patterns,
  matched with our own linear-time matcher; a pattern that is invalid or matches nothing is
  an error, as in Argo (which ignores the compile error and then finds no match).

Error messages are upstream's, word for word where clients or users may match on them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from analysis.expr.errors import ExprError
from analysis.expr.regexes import search
from analysis.expr.values import format_value
from analysis.models import (
    AnalysisRunSpec,
    AnalysisTemplate,
    AnalysisTemplateRef,
    Argument,
    DryRun,
    ManifestError,
    MeasurementRetention,
    Metric,
)

__all__ = [
    "DEFAULT_MEASUREMENT_RETENTION",
    "REDACTED",
    "SECRET_PLACEHOLDER",
    "CallerArgument",
    "CompositionError",
    "ParsedTemplate",
    "ResolvedArgs",
    "TemplateKey",
    "args_without_secrets",
    "collect_templates",
    "dry_run_metrics",
    "fill_template",
    "go_quote",
    "merge_args",
    "missing_templates",
    "new_run_spec",
    "parse_template",
    "redact",
    "resolve_caller_args",
    "resolve_metric",
    "resolve_metrics",
    "resolve_secret_args",
    "retention_limits",
    "secret_names",
    "template_key",
]

DEFAULT_MEASUREMENT_RETENTION = 10
"""Measurements kept per metric when no retention rule applies (or its limit is ≤ 0)."""

SECRET_PLACEHOLDER = "temp-for-secret"
"""What a Secret-backed argument reads as while a run is validated without reading Secrets."""

REDACTED = "*****"
"""What a Secret value is replaced with in measurement messages."""

TemplateKey = tuple[str, bool]
"""A template's identity: its name and whether it is a ClusterAnalysisTemplate."""

_PATH_SEPARATORS = re.compile(r"[.\[\]]+")
_LABEL_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


class CompositionError(ValueError):
    """A run cannot be built or its arguments cannot be resolved; the message says why."""


class _FieldRef(Protocol):
    @property
    def field_path(self) -> str: ...


class _CallerValueFrom(Protocol):
    @property
    def pod_template_hash_value(self) -> str | None: ...
    @property
    def field_ref(self) -> _FieldRef | None: ...


class CallerArgument(Protocol):
    """An argument as a Rollout passes it (``rollouts.models.AnalysisRunArgument`` fits)."""

    @property
    def name(self) -> str: ...
    @property
    def value(self) -> str | None: ...
    @property
    def value_from(self) -> _CallerValueFrom | None: ...


# --------------------------------------------------------------------------------------------
# Templates


def template_key(ref: AnalysisTemplateRef) -> TemplateKey:
    return ref.template_name, bool(ref.cluster_scope)


def _describe_missing(key: TemplateKey) -> str:
    kind = "clusteranalysistemplate" if key[1] else "analysistemplate"
    return f'{kind}.argoproj.io "{key[0]}" not found'


def _walk(
    refs: Iterable[AnalysisTemplateRef], fetched: Mapping[TemplateKey, AnalysisTemplate]
) -> tuple[list[TemplateKey], list[TemplateKey]]:
    """Depth-first pre-order over the references: (found keys in order, missing keys)."""
    found: list[TemplateKey] = []
    missing: list[TemplateKey] = []
    seen: set[TemplateKey] = set()
    pending = [template_key(ref) for ref in reversed(list(refs))]
    while pending:
        key = pending.pop()
        if key in seen:
            continue
        seen.add(key)
        template = fetched.get(key)
        if template is None:
            missing.append(key)
            continue
        found.append(key)
        pending.extend(template_key(ref) for ref in reversed(template.spec.templates or []))
    return found, missing


def missing_templates(
    refs: Iterable[AnalysisTemplateRef], fetched: Mapping[TemplateKey, AnalysisTemplate]
) -> list[TemplateKey]:
    """Templates reachable from ``refs`` that the caller has not fetched yet.

    Fetch these and call again: nested references only become visible once their parent is
    fetched. Empty means :func:`collect_templates` has everything it needs.
    """
    return _walk(refs, fetched)[1]


def collect_templates(
    refs: Iterable[AnalysisTemplateRef], fetched: Mapping[TemplateKey, AnalysisTemplate]
) -> tuple[list[AnalysisTemplate], list[AnalysisTemplate]]:
    """The namespaced and the cluster templates ``refs`` reach, each once, in reference order."""
    found, missing = _walk(refs, fetched)
    if missing:
        raise CompositionError(_describe_missing(missing[0]))
    namespaced = [fetched[key] for key in found if not key[1]]
    cluster = [fetched[key] for key in found if key[1]]
    return namespaced, cluster


def new_run_spec(
    templates: Sequence[AnalysisTemplate],
    cluster_templates: Sequence[AnalysisTemplate],
    args: Sequence[Argument] = (),
    dry_run: Sequence[DryRun] = (),
    measurement_retention: Sequence[MeasurementRetention] = (),
) -> AnalysisRunSpec:
    """Argo's ``NewAnalysisRunFromTemplates``: the spec of a run built from templates.

    ``args``, ``dry_run`` and ``measurement_retention`` are the caller's (a Rollout's, with args
    already resolved by :func:`resolve_caller_args`); the caller's rules come first.
    """
    ordered = [*templates, *cluster_templates]
    metrics = [metric for template in ordered for metric in template.spec.metrics or []]
    names: set[str] = set()
    for metric in metrics:
        if metric.name in names:
            raise CompositionError(f"two metrics have the same name '{metric.name}'")
        names.add(metric.name)
    template_dry_run = [rule for template in ordered for rule in template.spec.dry_run or []]
    template_retention = [rule for template in ordered for rule in template.spec.measurement_retention or []]
    _check_rule_names(template_dry_run, "Dry-Run")
    _check_rule_names(template_retention, "Measurement Retention")
    merged_dry_run = [*dry_run, *template_dry_run]
    merged_retention = [*measurement_retention, *template_retention]
    _check_rule_names(merged_dry_run, "Dry-Run")
    _check_rule_names(merged_retention, "Measurement Retention")
    return AnalysisRunSpec(
        metrics=metrics,
        args=merge_args(args, _flatten_args(ordered)) or None,
        dry_run=merged_dry_run or None,
        measurement_retention=merged_retention or None,
    )


def _check_rule_names(rules: Sequence[DryRun | MeasurementRetention], what: str) -> None:
    names: set[str] = set()
    for rule in rules:
        if rule.metric_name in names:
            raise CompositionError(f"two {what} metric rules have the same name '{rule.metric_name}'")
        names.add(rule.metric_name)


# --------------------------------------------------------------------------------------------
# Arguments


def _flatten_args(templates: Sequence[AnalysisTemplate]) -> list[Argument]:
    """Template args by name; equal duplicates collapse, a value fills an earlier valueless one."""
    combined: list[Argument] = []
    for template in templates:
        for arg in template.spec.args or []:
            index = next((i for i, known in enumerate(combined) if known.name == arg.name), None)
            if index is None:
                combined.append(arg)
                continue
            known = combined[index]
            if known.value is not None and arg.value is not None and known.value != arg.value:
                raise CompositionError(
                    f"Argument `{known.name}` specified multiple times with different values: "
                    f"'{known.value}', '{arg.value}'"
                )
            if known.value is None:
                combined[index] = arg
    return combined


def merge_args(incoming: Sequence[Argument], template_args: Sequence[Argument]) -> list[Argument]:
    """Argo's ``MergeArgs``: the caller's value (or valueFrom) overrides the template's.

    Only arguments the templates declare are kept, as upstream; afterwards every argument needs
    a value or a valueFrom.
    """
    merged = [arg.model_copy() for arg in template_args]
    for arg in incoming:
        for index, known in enumerate(merged):
            if known.name != arg.name:
                continue
            if arg.value is not None:
                merged[index] = known.model_copy(update={"value": arg.value})
            elif arg.value_from is not None:
                merged[index] = known.model_copy(update={"value_from": arg.value_from})
    for arg in merged:
        if arg.value is None and arg.value_from is None:
            raise CompositionError(f"args.{arg.name} was not resolved")
    return merged


def resolve_caller_args(
    args: Sequence[CallerArgument],
    owner: Mapping[str, Any],
    *,
    stable_hash: str | None,
    latest_hash: str | None,
) -> list[Argument]:
    """Rollout-supplied args as plain values (Argo's ``BuildArgumentsForRolloutAnalysisRun``).

    ``owner`` is the Rollout as the API returns it (camelCase JSON); the hashes are the
    ``rollouts-pod-template-hash`` labels of the stable and the newest ReplicaSet.
    """
    resolved: list[Argument] = []
    for arg in args:
        value = arg.value
        source = arg.value_from
        if source is not None and source.pod_template_hash_value is not None:
            value = _pod_template_hash(source.pod_template_hash_value, stable_hash, latest_hash)
        elif source is not None and source.field_ref is not None:
            path = source.field_ref.field_path
            value = _metadata_field(owner, path) if path.startswith("metadata") else _owner_field(owner, path)
        resolved.append(Argument(name=arg.name, value=value if value is not None else ""))
    return resolved


def _pod_template_hash(which: str, stable_hash: str | None, latest_hash: str | None) -> str:
    if which not in ("Stable", "Latest"):
        raise CompositionError(f"podTemplateHashValue must be Stable or Latest, not {which!r}")
    value = stable_hash if which == "Stable" else latest_hash
    if not value:
        kind = "stable" if which == "Stable" else "newest"
        raise CompositionError(f"podTemplateHashValue {which}: the {kind} ReplicaSet has no pod hash")
    return value


def _metadata_field(owner: Mapping[str, Any], path: str) -> str:
    """The downward-API paths Kubernetes' ``fieldpath.ExtractFieldPathAsString`` supports."""
    metadata = owner.get("metadata") or {}
    simple = {"metadata.name": "name", "metadata.namespace": "namespace", "metadata.uid": "uid"}
    if path in simple:
        return str(metadata.get(simple[path]) or "")
    if path in ("metadata.labels", "metadata.annotations"):
        values = metadata.get(path.split(".")[1]) or {}
        return "\n".join(f"{key}={go_quote(str(values[key]))}" for key in sorted(values))
    base, _, subscript = path.removesuffix("']").partition("['")
    if path.endswith("']") and "['" in path and base:
        if base not in ("metadata.labels", "metadata.annotations"):
            raise CompositionError(f'fieldPath "{path}" does not support subscript')
        key = subscript.lower() if base == "metadata.annotations" else subscript
        problem = _qualified_name_problem(key)
        if problem:
            raise CompositionError(f"invalid key subscript in {path}: {problem}")
        return str((metadata.get(base.split(".")[1]) or {}).get(subscript, ""))
    raise CompositionError(f"unsupported fieldPath: {path}")


def _qualified_name_problem(key: str) -> str | None:
    prefix, slash, name = key.rpartition("/")
    if slash and (not prefix or len(prefix) > 253 or not _DNS_SUBDOMAIN.fullmatch(prefix)):
        return "prefix part must be a lowercase DNS subdomain of at most 253 characters"
    if not name or len(name) > 63 or not _LABEL_NAME.fullmatch(name):
        return (
            "name part must be at most 63 alphanumeric characters, '-', '_' or '.', "
            "starting and ending with an alphanumeric character"
        )
    return None


def _owner_field(owner: Mapping[str, Any], path: str) -> str:
    """Any other path: walk the object's JSON splitting on ``.``, ``[`` and ``]``."""
    current: Any = owner
    for section in _PATH_SEPARATORS.split(path):
        if not section:
            continue
        if isinstance(current, list):
            if not re.fullmatch(r"[+-]?[0-9]+", section):
                raise CompositionError(f"invalid index '{section}'")
            index = int(section)
            if not 0 <= index < len(current):
                raise CompositionError(f"index {index} out of range")
            current = current[index]
        elif isinstance(current, Mapping):
            current = current.get(section)
        else:
            raise CompositionError(f"invalid path {path} in rollout")
    if current is None:
        raise CompositionError(f"invalid path {path} in rollout")
    if isinstance(current, list | Mapping):
        raise CompositionError(f"path {path} in rollout must terminate in a primitive value")
    # Argo decodes JSON numbers as float64 and prints them with %v.
    number = float(current) if isinstance(current, int) and not isinstance(current, bool) else current
    return format_value(number, 1)


@dataclass(frozen=True)
class ResolvedArgs:
    """Arguments with Secret values filled in, and those values (to redact from messages)."""

    args: tuple[Argument, ...]
    secrets: tuple[str, ...]


def secret_names(args: Iterable[Argument]) -> list[str]:
    """Names of the Secrets (in the run's namespace) the arguments read, each once."""
    names: list[str] = []
    for arg in args:
        ref = arg.value_from.secret_key_ref if arg.value_from else None
        if ref is not None and ref.name not in names:
            names.append(ref.name)
    return names


def resolve_secret_args(
    args: Iterable[Argument], secret_data: Mapping[str, Mapping[str, str]]
) -> ResolvedArgs:
    """Fill Secret-backed args from ``secret_data`` (Secret name → key → decoded value)."""
    resolved: list[Argument] = []
    secrets: list[str] = []
    for arg in args:
        ref = arg.value_from.secret_key_ref if arg.value_from else None
        if ref is None:
            resolved.append(arg)
            continue
        data = secret_data.get(ref.name)
        if data is None:
            raise CompositionError(f'secrets "{ref.name}" not found')
        if ref.key not in data:
            raise CompositionError(f"key '{ref.key}' does not exist in secret '{ref.name}'")
        value = data[ref.key]
        if value and value not in secrets:
            secrets.append(value)
        resolved.append(arg.model_copy(update={"value": value}))
    return ResolvedArgs(tuple(resolved), tuple(secrets))


def args_without_secrets(args: Iterable[Argument]) -> list[Argument]:
    """Secret-backed args with a placeholder value: enough to validate a run without reading Secrets."""
    return [
        arg.model_copy(update={"value": SECRET_PLACEHOLDER, "value_from": None})
        if arg.value_from is not None and arg.value_from.secret_key_ref is not None
        else arg
        for arg in args
    ]


def redact(message: str, secrets: Iterable[str]) -> str:
    """The message with every Secret value replaced by ``*****``."""
    for secret in secrets:
        if secret:
            message = message.replace(secret, REDACTED)
    return message


# --------------------------------------------------------------------------------------------
# Templating


ParsedTemplate = list[tuple[str, str | None]]
"""A parsed template: literal text, each followed by the raw text of a placeholder (or None)."""


def parse_template(template: str) -> ParsedTemplate:
    """Split on ``{{ ... }}`` in the manner of the Go ``fasttemplate`` package Argo uses."""
    pieces: ParsedTemplate = []
    position = 0
    while (start := template.find("{{", position)) >= 0:
        end = template.find("}}", start + 2)
        if end < 0:
            raise CompositionError(
                f"Cannot find end tag={go_quote('}}')} in the template={go_quote(template)} "
                f"starting from {go_quote(template[start + 2 :])}"
            )
        pieces.append((template[position:start], template[start + 2 : end]))
        position = end + 2
    pieces.append((template[position:], None))
    return pieces


def fill_template(pieces: ParsedTemplate, values: Mapping[str, str], *, only_args: bool = False) -> str:
    """Fill the placeholders; with ``only_args`` a tag not under ``args.`` is kept as written."""
    output: list[str] = []
    unresolved: str | None = None
    for text, tag in pieces:
        output.append(text)
        if tag is None:
            continue
        value = values.get(tag.strip())
        if only_args and not tag.strip().startswith("args."):
            output.append("{{" + tag + "}}")
        elif value is None:
            unresolved = tag  # upstream reports the last unresolved placeholder
        else:
            output.append(value)
    if unresolved is not None:
        raise CompositionError(f"failed to resolve {{{{{unresolved}}}}}")
    return "".join(output)


def resolve_metric(metric: Metric, args: Sequence[Argument]) -> Metric:
    """The metric with every ``{{args.x}}`` replaced (Argo's ``ResolveMetricArgs``).

    Substitution runs on the metric's JSON text, so it reaches every string field (provider
    settings, conditions, counts written as strings, headers, a JSON body). Values are inserted
    JSON-escaped: quotes, newlines and control characters cannot break the document. An inline
    workflow spec (our ``workflow`` provider) has its own ``{{...}}`` language: there only
    ``{{args.x}}`` tags are ours, the others are left for the workflow engine.
    """
    document = metric.to_dict()
    workflow = (document.get("provider") or {}).get("workflow") or {}
    spec = workflow.pop("spec", None)
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    pieces = parse_template(text)  # a malformed template is reported before missing values
    spec_text = json.dumps(spec, ensure_ascii=False, separators=(",", ":"))
    spec_pieces: ParsedTemplate = parse_template(spec_text) if spec is not None else [(spec_text, None)]
    values: dict[str, str] = {}
    for arg in args:
        if arg.value is None:
            raise CompositionError(f'argument "{arg.name}" was not supplied')
        values[f"args.{arg.name}"] = json.dumps(arg.value, ensure_ascii=False)[1:-1]
    if len(pieces) == 1 and len(spec_pieces) == 1:
        return metric
    text = fill_template(pieces, values)
    try:
        resolved = json.loads(text)
        if spec is not None:
            resolved["provider"]["workflow"]["spec"] = json.loads(
                fill_template(spec_pieces, values, only_args=True)
            )
        return Metric.from_dict(resolved)
    except (ValueError, ManifestError) as error:  # json.JSONDecodeError is a ValueError
        problem = f"metric {metric.name!r} is invalid after argument substitution: {error}"
        raise CompositionError(problem) from None


def resolve_metrics(metrics: Iterable[Metric], args: Sequence[Argument]) -> list[Metric]:
    return [resolve_metric(metric, args) for metric in metrics]


# --------------------------------------------------------------------------------------------
# Dry-run and retention rules


class _UnboundedBudget:
    """Metric names are short and patterns bounded in length; matching needs no step budget."""

    def charge(self, steps: int) -> None:
        return None


def _matches(pattern: str, name: str) -> bool:
    try:
        return search(pattern, name, _UnboundedBudget())
    except ExprError:
        return False  # as Go's ignored regexp error: an invalid rule matches nothing


def dry_run_metrics(rules: Sequence[DryRun], metrics: Sequence[Metric]) -> frozenset[str]:
    """Names of the metrics that run in dry-run mode; a rule matching nothing is an error."""
    names: set[str] = set()
    for index, rule in enumerate(rules):
        matched = [metric.name for metric in metrics if _matches(rule.metric_name, metric.name)]
        if not matched:
            raise CompositionError(f"dryRun[{index}]: Rule didn't match any metric name(s)")
        names.update(matched)
    return frozenset(names)


def retention_limits(rules: Sequence[MeasurementRetention], metrics: Sequence[Metric]) -> dict[str, int]:
    """Measurements to keep per metric name; the last matching rule wins, ≤ 0 means the default."""
    limits = {metric.name: DEFAULT_MEASUREMENT_RETENTION for metric in metrics}
    for index, rule in enumerate(rules):
        matched = [metric.name for metric in metrics if _matches(rule.metric_name, metric.name)]
        if not matched:
            raise CompositionError(f"measurementRetention[{index}]: Rule didn't match any metric name(s)")
        for name in matched:
            limits[name] = rule.limit if rule.limit > 0 else DEFAULT_MEASUREMENT_RETENTION
    return limits


# --------------------------------------------------------------------------------------------
# Go's quoting


_GO_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def go_quote(text: str) -> str:
    """Go's ``strconv.Quote`` (also ``%q``): printable runes kept, the rest escaped."""
    out = ['"']
    for char in text:
        code = ord(char)
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif char.isprintable():
            out.append(char)
        elif char in _GO_ESCAPES:
            out.append(_GO_ESCAPES[char])
        elif code < 0x80:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)
