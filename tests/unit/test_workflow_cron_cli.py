"""``rollouts workflow cron``: manifest checks (malformed input refused, nothing created) and screens."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from rollouts.workflowcli import register
from rollouts.workflowcli.cron import cron_rows, describe, load_cron
from rollouts.workflowcli.manifests import BadInputError

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "workflows" / "cron.yaml"
NOW = datetime(2026, 5, 1, 9, 2, tzinfo=UTC)
MANIFEST = """
apiVersion: argoproj.io/v1alpha1
kind: CronWorkflow
metadata: {name: hello}
spec:
  schedule: "*/10 * * * *"
  workflowSpec:
    entrypoint: main
    templates:
    - name: main
      container: {image: busybox, command: [echo, hi]}
"""


def test_an_argo_manifest_becomes_our_kind() -> None:
    cron = load_cron("hello.yaml", MANIFEST)
    assert cron.api_version == "workflows.rollouts.dev/v1alpha1"
    assert cron.spec.all_schedules() == ["*/10 * * * *"]


def test_the_example_is_valid() -> None:
    cron = load_cron(EXAMPLE.name, EXAMPLE.read_text())
    assert cron.spec.concurrency_policy == "Forbid"


def edited(change: dict[str, Any]) -> str:
    manifest = yaml.safe_load(MANIFEST)
    for path, value in change.items():
        node = manifest
        *parents, last = path.split(".")
        for part in parents:
            node = node[part]
        node[last] = value
    return yaml.safe_dump(manifest)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("kind: [unclosed", "c.yaml (line 1): "),
        ("", "c.yaml: expected one CronWorkflow manifest, found 0 documents"),
        (MANIFEST + "---\n" + MANIFEST, "found 2 documents"),
        (MANIFEST.replace("kind: CronWorkflow", "kind: Workflow"), "not a CronWorkflow (kind 'Workflow'"),
        (edited({"spec.concurrencyPolicy": "Never"}), "spec.concurrencyPolicy"),
        (edited({"spec.schedule": "*/10 * *"}), "cron schedule */10 * * is malformed: expected exactly 5"),
        (
            edited({"spec.timezone": "Europe/Atlantis"}),
            "provided bad location Europe/Atlantis: unknown time zone Europe/Atlantis",
        ),
        (edited({"metadata.name": "x" * 53}), "must be at most 52 characters"),
        (edited({"metadata": {}}), "metadata.name is required"),
        (edited({"spec.workflowSpec.entrypoint": "nope"}), "spec.workflowSpec: "),
        (edited({"spec.schedule": None}), "at least one schedule is required"),
    ],
)
def test_malformed_input_is_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(BadInputError) as raised:
        load_cron("c.yaml", text)
    assert message in raised.value.message
    assert raised.value.exit_code == 2


def item(**status: Any) -> dict[str, Any]:
    manifest = yaml.safe_load(MANIFEST)
    manifest["metadata"].update(namespace="data", creationTimestamp="2026-05-01T07:00:00Z")
    manifest["spec"]["timezone"] = "Europe/Paris"
    manifest["status"] = status
    return dict(manifest)


def test_list_rows_have_argo_cron_lists_columns() -> None:
    rows = cron_rows([item(lastScheduledTime="2026-05-01T08:50:00Z")], NOW, namespaces=True)
    assert rows == [["data", "hello", "2h", "12m", "8m", "*/10 * * * *", "Europe/Paris", "false"]]
    suspended = item()
    suspended["spec"]["suspend"] = True
    assert cron_rows([suspended], NOW, namespaces=False) == [
        ["hello", "2h", "N/A", "N/A", "*/10 * * * *", "Europe/Paris", "true"]
    ]
    broken = item()
    broken["spec"]["concurrencyPolicy"] = 7
    assert cron_rows([broken], NOW, namespaces=False)[0][:4] == ["hello", "2h", "N/A", "N/A"]


def test_get_lists_the_fields_and_conditions() -> None:
    text = describe(
        item(
            active=[{"name": "hello-1777625400"}],
            succeeded=2,
            phase="Active",
            conditions=[{"type": "SubmissionError", "status": "True", "message": "denied"}],
        ),
        NOW,
    )
    lines = text.splitlines()
    value_columns = {len(line) - len(line.split(":", 1)[1].lstrip()) for line in lines}
    assert len(value_columns) == 1  # values aligned
    fields = dict((label, value.strip()) for label, value in (line.split(":", 1) for line in lines))
    assert fields["Schedules"] == "*/10 * * * *"
    assert fields["Timezone"] == "Europe/Paris"
    assert fields["NextScheduledTime"] == "Fri May 01 09:10:00 +0000 (8m from now)"
    assert fields["Active Workflows"] == "hello-1777625400"
    assert fields["Condition SubmissionError"] == "denied"
    assert (fields["Succeeded"], fields["Failed"], fields["Phase"]) == ("2", "0", "Active")


def test_create_refuses_a_missing_file_before_connecting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    parser = argparse.ArgumentParser(prog="rollouts")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["workflow", "cron", "create", str(tmp_path / "none.yaml")])
    assert args.func(args) == 2
    assert capsys.readouterr().err == f"error: cannot read {tmp_path / 'none.yaml'}: no such file\n"
