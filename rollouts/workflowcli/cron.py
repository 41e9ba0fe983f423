"""``rollouts workflow cron``'s pure half: reading a CronWorkflow manifest and the two screens.

`load_cron` checks everything before anything is created: the file and its YAML (the line of a
syntax error), one ``CronWorkflow`` whose ``apiVersion`` is Argo's (``argoproj.io/v1alpha1``,
what users have from Argo) or ours (``workflows.rollouts.dev/v1alpha1``), the model (each bad
field named), the name (at most 52 characters: runs are ``<name>-<10 digits>``), every schedule
with its timezone (Argo's ``cron schedule ... is malformed`` message) and the workflowSpec
(the engine's validation, every problem listed). The object created is always our kind.

`cron_rows` gives ``argo cron list``'s columns (NAME AGE LAST RUN NEXT RUN SCHEDULES TIMEZONE
SUSPENDED) and `describe` ``argo cron get``'s field list; time is a parameter.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from analysis.models.base import ManifestError
from analysis.workflows.cron_model import CRON_KIND, CronWorkflow
from analysis.workflows.cron_policy import next_tick, parse_time, schedules_of
from analysis.workflows.cron_schedule import CronScheduleError
from analysis.workflows.spec import Workflow
from analysis.workflows.status import GROUP, VERSION
from analysis.workflows.validation import workflow_problems
from rollouts.plugin.linemaps import YamlError, parse_documents
from rollouts.workflowcli.manifests import BadInputError
from rollouts.workflowcli.tree import short_duration

__all__ = ["MAX_NAME", "cron_rows", "describe", "load_cron"]

MAX_NAME: Final = 52
ACCEPTED_VERSIONS: Final = ("argoproj.io/v1alpha1", f"{GROUP}/{VERSION}")
NOT_AVAILABLE: Final = "N/A"


def _document(name: str, text: str) -> dict[str, Any]:
    try:
        documents = [document.value for document in parse_documents(text) if document.value is not None]
    except YamlError as error:
        where = f" (line {error.line})" if error.line else ""
        raise BadInputError(f"{name}{where}: {error}") from None
    if len(documents) != 1 or not isinstance(documents[0], dict):
        raise BadInputError(f"{name}: expected one CronWorkflow manifest, found {len(documents)} documents")
    value: dict[str, Any] = documents[0]
    kind, version = value.get("kind"), value.get("apiVersion")
    if kind != CRON_KIND or version not in ACCEPTED_VERSIONS:
        raise BadInputError(
            f"{name}: not a CronWorkflow (kind {kind!r}, apiVersion {version!r}; expected kind "
            f"'CronWorkflow', apiVersion {' or '.join(repr(v) for v in ACCEPTED_VERSIONS)})"
        )
    return value


def load_cron(name: str, text: str) -> CronWorkflow:
    """The checked CronWorkflow of file ``name``, as our kind; `BadInputError` listing problems."""
    manifest = _document(name, text)
    manifest = {**manifest, "apiVersion": f"{GROUP}/{VERSION}"}
    try:
        cron = CronWorkflow.from_dict(manifest)
    except ManifestError as error:
        raise BadInputError(f"{name}: {error}") from None
    problems: list[str] = []
    cron_name = cron.metadata.name or ""
    if not cron_name:
        problems.append("metadata.name is required (runs are named after it)")
    elif len(cron_name) > MAX_NAME:
        problems.append(f"metadata.name {cron_name!r} must be at most {MAX_NAME} characters")
    try:
        schedules_of(cron)
    except CronScheduleError as error:
        problems.append(str(error))
    try:
        workflow = Workflow.from_dict({"metadata": {"name": cron_name}, "spec": cron.spec.workflow_spec})
    except ManifestError as error:
        problems.append(f"spec.workflowSpec: {error}")
    else:
        problems += [f"spec.workflowSpec: {problem}" for problem in workflow_problems(workflow, None)]
    if problems:
        listed = "\n".join(f"  - {problem}" for problem in problems)
        raise BadInputError(f"{name}: the CronWorkflow is invalid:\n{listed}")
    return cron


def _next_run(cron: CronWorkflow, now: datetime) -> datetime | None:
    if cron.spec.suspend or (cron.status is not None and cron.status.phase == "Stopped"):
        return None
    try:
        return next_tick(schedules_of(cron), now)
    except CronScheduleError:
        return None


def _parsed(item: dict[str, Any]) -> CronWorkflow | None:
    try:
        return CronWorkflow.from_dict(item)
    except ManifestError:
        return None


def cron_rows(items: list[dict[str, Any]], now: datetime, *, namespaces: bool) -> list[list[str]]:
    """``argo cron list`` rows (NAMESPACE first with -A); a malformed object still gets its name."""
    rows = []
    for item in sorted(items, key=lambda obj: str((obj.get("metadata") or {}).get("name") or "")):
        metadata = item.get("metadata") or {}
        created = parse_time(metadata.get("creationTimestamp"))
        cron = _parsed(item)
        last = parse_time(cron.status.last_scheduled_time) if cron and cron.status else None
        upcoming = _next_run(cron, now) if cron else None
        row = [
            str(metadata.get("name") or ""),
            short_duration((now - created).total_seconds()) if created else NOT_AVAILABLE,
            short_duration((now - last).total_seconds()) if last else NOT_AVAILABLE,
            short_duration((upcoming - now).total_seconds()) if upcoming else NOT_AVAILABLE,
            ",".join(cron.spec.all_schedules()) if cron else "",
            (cron.spec.timezone or "") if cron else "",
            str(bool(cron.spec.suspend)).lower() if cron else "",
        ]
        rows.append([str(metadata.get("namespace") or ""), *row] if namespaces else row)
    return rows


def _when(instant: datetime | None, now: datetime) -> str:
    if instant is None:
        return NOT_AVAILABLE
    text = instant.strftime("%a %b %d %H:%M:%S %z")
    seconds = (instant - now).total_seconds()
    relative = f"{short_duration(seconds)} from now" if seconds > 0 else f"{short_duration(-seconds)} ago"
    return f"{text} ({relative})"


def describe(item: dict[str, Any], now: datetime) -> str:
    """``argo cron get``'s fields, one per line, values aligned."""
    metadata = item.get("metadata") or {}
    cron = _parsed(item)
    fields: list[tuple[str, str]] = [
        ("Name", str(metadata.get("name") or "")),
        ("Namespace", str(metadata.get("namespace") or "")),
        ("Created", _when(parse_time(metadata.get("creationTimestamp")), now)),
    ]
    if cron is None:
        fields.append(("Problem", "the object does not fit the CronWorkflow model"))
    else:
        spec, status = cron.spec, cron.status
        fields += [
            ("Schedules", ",".join(spec.all_schedules())),
            ("Timezone", spec.timezone or "UTC"),
            ("Suspended", str(bool(spec.suspend)).lower()),
            ("StartingDeadlineSeconds", str(spec.starting_deadline_seconds or 0)),
            ("ConcurrencyPolicy", spec.concurrency_policy or "Allow"),
            ("LastScheduledTime", _when(parse_time(status.last_scheduled_time) if status else None, now)),
            ("NextScheduledTime", _when(_next_run(cron, now), now)),
            ("Active Workflows", ",".join(ref.name or "" for ref in (status.active or [])) if status else ""),
            ("Succeeded", str((status.succeeded if status else 0) or 0)),
            ("Failed", str((status.failed if status else 0) or 0)),
            ("Phase", (status.phase if status else None) or ""),
        ]
        for condition in (status.conditions if status else None) or []:
            fields.append((f"Condition {condition.type}", condition.message or condition.status))
    width = max(len(label) for label, _ in fields) + 2
    return "".join(f"{label + ':':<{width}}{value}\n" for label, value in fields)
