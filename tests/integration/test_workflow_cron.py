# ruff: noqa: F401, F811 - pytest fixtures imported from other modules are parameters by design
"""CronWorkflows run by ``rollouts controller`` on the devcluster, and our cron parser against
robfig/cron itself.

Ticks come from ``@every`` schedules (robfig's descriptor, which Argo accepts) so a test takes
seconds, not minutes; the five-field schedules, DST and missed-tick rules are unit-tested
through the pure decision. The runs are real WorkflowRuns the same controller runs as pods.

The parser is also compared with ``github.com/robfig/cron/v3`` (the library Argo and Kubernetes
CronJobs use, in the shared Go module cache because Kubernetes needs it) on thousands of
generated expressions, timezones and instants; without Go this test fails rather than skips.
"""

from __future__ import annotations

import itertools
import os
import random
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import yaml
from kubernetes import client
from test_controller_harness import ControllerProcess, controller, rollout_crds, wait_for
from test_workflow_cli import workflow_cli
from workflow_fixtures import workflow_controller, workflow_pod_env

from analysis.workflows.cron_model import CRON_PLURAL
from analysis.workflows.cron_policy import CRON_LABEL, SCHEDULED_ANNOTATION, parse_time
from analysis.workflows.cron_schedule import parse_expression
from analysis.workflows.runs import PLURAL
from analysis.workflows.status import FINAL_PHASES, GROUP, VERSION
from rollouts.devcluster import DevCluster
from rollouts.devcluster.builds import find_go

WAIT = 240.0
EXAMPLE = Path(__file__).parents[2] / "examples" / "workflows" / "cron.yaml"


def cron_manifest(name: str, schedule: str, command: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "CronWorkflow",
        "metadata": {"name": name},
        "spec": {
            "schedules": [schedule],
            "workflowSpec": {
                "entrypoint": "main",
                "templates": [
                    {
                        "name": "main",
                        "container": {"image": "busybox", "command": ["sh", "-c", command]},
                        "outputs": {"parameters": [{"name": "tick", "valueFrom": {"path": "/tmp/tick"}}]},
                    }
                ],
            },
            **spec,
        },
    }


def create(api_client: Any, namespace: str, manifest: dict[str, Any]) -> None:
    client.CustomObjectsApi(api_client).create_namespaced_custom_object(
        GROUP, VERSION, namespace, CRON_PLURAL, manifest
    )


def cron(api_client: Any, namespace: str, name: str) -> dict[str, Any]:
    found = client.CustomObjectsApi(api_client).get_namespaced_custom_object(
        GROUP, VERSION, namespace, CRON_PLURAL, name
    )
    return cast(dict[str, Any], found)


def patch_spec(api_client: Any, namespace: str, name: str, spec: dict[str, Any]) -> None:
    client.CustomObjectsApi(api_client).patch_namespaced_custom_object(
        GROUP, VERSION, namespace, CRON_PLURAL, name, {"spec": spec}
    )


def runs(api_client: Any, namespace: str, name: str) -> list[dict[str, Any]]:
    listed = client.CustomObjectsApi(api_client).list_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, label_selector=f"{CRON_LABEL}={name}"
    )
    return sorted(cast(dict[str, Any], listed)["items"], key=lambda run: run["metadata"]["name"])


def phase(run: dict[str, Any]) -> str | None:
    value = (run.get("status") or {}).get("phase")
    return None if value is None else str(value)


def tick_of(run: dict[str, Any]) -> int:
    return int(run["metadata"]["name"].rsplit("-", 1)[1])


def test_forbid_never_overlaps_runs_and_history_keeps_the_newest(
    api_client: Any, namespace: str, workflow_controller: ControllerProcess
) -> None:
    # each run outlives two ticks, so Forbid has ticks to refuse
    command = "echo '{{workflow.scheduledTime}}' > /tmp/tick; sleep 7"
    manifest = cron_manifest(
        "forbid", "@every 3s", command, concurrencyPolicy="Forbid", successfulJobsHistoryLimit=2
    )
    create(api_client, namespace, manifest)
    most_active = 0

    def three_succeeded() -> bool:
        nonlocal most_active
        active = [run for run in runs(api_client, namespace, "forbid") if phase(run) not in FINAL_PHASES]
        most_active = max(most_active, len(active))
        succeeded = (cron(api_client, namespace, "forbid").get("status") or {}).get("succeeded", 0)
        return int(succeeded) >= 3

    wait_for(three_succeeded, "three runs to succeed", timeout=WAIT)
    assert most_active == 1

    def pruned() -> list[dict[str, Any]] | None:
        finished = [run for run in runs(api_client, namespace, "forbid") if phase(run) == "Succeeded"]
        return finished if len(finished) == 2 else None

    kept = wait_for(pruned, "history pruned to two succeeded runs", timeout=WAIT)
    for run in kept:
        scheduled = run["metadata"]["annotations"][SCHEDULED_ANNOTATION]
        assert parse_time(scheduled) is not None
        assert int(parse_time(scheduled).timestamp()) == tick_of(run)  # type: ignore[union-attr]
        [node] = [node for node in run["status"]["nodes"].values() if node["type"] == "Pod"]
        assert [(p["name"], p["value"]) for p in node["outputs"]["parameters"]] == [("tick", scheduled)]
        [owner] = run["metadata"]["ownerReferences"]
        assert (owner["kind"], owner["name"]) == ("CronWorkflow", "forbid")
    status = cron(api_client, namespace, "forbid")["status"]
    assert status["phase"] == "Active"
    assert status["failed"] == 0


def test_suspend_stops_creation_and_a_restart_neither_skips_nor_doubles(
    api_client: Any, namespace: str, workflow_controller: ControllerProcess
) -> None:
    # a history limit high enough that no run is pruned while the test counts them
    manifest = cron_manifest("beat", "@every 3s", "echo x > /tmp/tick", successfulJobsHistoryLimit=100)
    create(api_client, namespace, manifest)
    wait_for(lambda: len(runs(api_client, namespace, "beat")) >= 2, "two runs", timeout=WAIT)

    patch_spec(api_client, namespace, "beat", {"suspend": True})
    time.sleep(2)  # a tick decided before the patch arrived may still land
    before = [run["metadata"]["name"] for run in runs(api_client, namespace, "beat")]
    time.sleep(8)  # more than two periods
    assert [run["metadata"]["name"] for run in runs(api_client, namespace, "beat")] == before

    # a SIGKILL right after a tick, then a restart: the next ticks follow on, one run each
    patch_spec(api_client, namespace, "beat", {"suspend": False})
    wait_for(
        lambda: len(runs(api_client, namespace, "beat")) > len(before), "a run after resume", timeout=WAIT
    )
    workflow_controller.kill()
    workflow_controller.start()
    count = len(runs(api_client, namespace, "beat"))
    wait_for(lambda: len(runs(api_client, namespace, "beat")) >= count + 2, "two runs after the restart")
    ticks = [tick_of(run) for run in runs(api_client, namespace, "beat")]
    gaps = [later - earlier for earlier, later in itertools.pairwise(ticks)]
    assert min(gaps) >= 3, ticks
    status = cron(api_client, namespace, "beat")["status"]
    newest = max(ticks)
    assert parse_time(status["lastScheduledTime"]) is not None
    assert int(parse_time(status["lastScheduledTime"]).timestamp()) >= newest  # type: ignore[union-attr]


def test_a_malformed_schedule_is_reported_and_creates_nothing(
    api_client: Any, namespace: str, workflow_controller: ControllerProcess
) -> None:
    create(api_client, namespace, cron_manifest("broken", "*/5 * * *", "true", timezone="Europe/Paris"))

    def reported() -> list[dict[str, Any]] | None:
        conditions = (cron(api_client, namespace, "broken").get("status") or {}).get("conditions")
        return conditions or None

    [condition] = wait_for(reported, "a SpecError condition")
    assert condition == {
        "type": "SpecError",
        "status": "True",
        "message": "cron schedule CRON_TZ=Europe/Paris */5 * * * is malformed: "
        "expected exactly 5 fields, found 4: [*/5 * * *]",
    }
    assert runs(api_client, namespace, "broken") == []


def test_replace_terminates_the_active_run_before_starting_the_next(
    api_client: Any, namespace: str, workflow_controller: ControllerProcess
) -> None:
    manifest = cron_manifest("swap", "@every 4s", "sleep 120", concurrencyPolicy="Replace")
    create(api_client, namespace, manifest)
    wait_for(lambda: len(runs(api_client, namespace, "swap")) >= 2, "a second run", timeout=WAIT)
    first = runs(api_client, namespace, "swap")[0]
    assert first["spec"].get("shutdown") == "Terminate"

    def ended() -> str | None:
        found = runs(api_client, namespace, "swap")[0]
        return phase(found) if phase(found) in FINAL_PHASES else None

    assert wait_for(ended, "the replaced run to end", timeout=WAIT) == "Failed"

    def dropped() -> bool:
        active = cron(api_client, namespace, "swap")["status"].get("active") or []
        return first["metadata"]["name"] not in [reference["name"] for reference in active]

    wait_for(dropped, "the replaced run to leave status.active")


ARGO_MANIFEST = """
apiVersion: argoproj.io/v1alpha1
kind: CronWorkflow
metadata: {name: nightly}
spec:
  schedule: "0 3 * * *"
  timezone: Europe/Paris
  workflowSpec:
    entrypoint: main
    templates:
    - {name: main, container: {image: busybox, command: [echo, hi]}}
"""


def test_the_cron_cli_creates_lists_suspends_resumes_and_deletes(
    api_client: Any, namespace: str, devcluster: DevCluster, rollout_crds: list[str], tmp_path: Any
) -> None:
    manifest = tmp_path / "nightly.yaml"
    manifest.write_text(ARGO_MANIFEST)
    broken = tmp_path / "broken.yaml"
    broken.write_text(ARGO_MANIFEST.replace('"0 3 * * *"', '"0 3 * *"'))

    refused = workflow_cli(devcluster, namespace, "cron", "create", str(broken))
    assert refused.returncode == 2, refused.stderr
    assert "cron schedule CRON_TZ=Europe/Paris 0 3 * * is malformed" in refused.stderr

    created = workflow_cli(devcluster, namespace, "cron", "create", str(manifest))
    assert created.returncode == 0, created.stderr
    stored = cron(api_client, namespace, "nightly")
    assert stored["apiVersion"] == f"{GROUP}/{VERSION}"
    assert stored["spec"]["schedule"] == "0 3 * * *"

    listed = workflow_cli(devcluster, namespace, "cron", "list")
    assert listed.returncode == 0, listed.stderr
    header, row = listed.stdout.splitlines()
    assert header.split() == [
        "NAME",
        "AGE",
        "LAST",
        "RUN",
        "NEXT",
        "RUN",
        "SCHEDULES",
        "TIMEZONE",
        "SUSPENDED",
    ]
    assert row.split()[0] == "nightly"
    assert row.split()[-2:] == ["Europe/Paris", "false"]

    assert workflow_cli(devcluster, namespace, "cron", "suspend", "nightly").returncode == 0
    assert cron(api_client, namespace, "nightly")["spec"]["suspend"] is True
    got = workflow_cli(devcluster, namespace, "cron", "get", "nightly")
    assert "Suspended:" in got.stdout and "true" in got.stdout.split("Suspended:")[1].splitlines()[0]
    assert workflow_cli(devcluster, namespace, "cron", "resume", "nightly").returncode == 0
    assert cron(api_client, namespace, "nightly")["spec"]["suspend"] is False

    # the example as kubectl apply sends it: the API server keeps every field (the schema knows them)
    example = yaml.safe_load(EXAMPLE.read_text())
    create(api_client, namespace, example)
    assert cron(api_client, namespace, "report")["spec"] == example["spec"]

    deleted = workflow_cli(devcluster, namespace, "cron", "delete", "nightly")
    assert deleted.returncode == 0, deleted.stderr
    missing = workflow_cli(devcluster, namespace, "cron", "get", "nightly")
    assert missing.returncode == 1
    assert missing.stderr == 'error: cronworkflows.workflows.rollouts.dev "nightly" not found\n'


ROBFIG_MOD = """module cronoracle

go 1.22

require github.com/robfig/cron/v3 v3.0.1
"""
ROBFIG_SUM = """github.com/robfig/cron/v3 v3.0.1 h1:WdRxkvbJztn8LMz/QEvLN5sBU+xKpSqwwUO1Pjr4qDs=
github.com/robfig/cron/v3 v3.0.1/go.mod h1:eQICP3HwyT7UooqI/z+Ov+PtYAWygg1TEWWzGIFLtro=
"""
ROBFIG_MAIN = """package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// each line "spec<TAB>RFC 3339 instant" gives the next tick in UTC, ZERO, or ERR <message>
func main() {
	scanner := bufio.NewScanner(os.Stdin)
	for scanner.Scan() {
		parts := strings.SplitN(scanner.Text(), "\\t", 2)
		schedule, err := cron.ParseStandard(parts[0])
		if err != nil {
			fmt.Printf("ERR %s\\n", err)
			continue
		}
		after, _ := time.Parse(time.RFC3339Nano, parts[1])
		if next := schedule.Next(after.UTC()); next.IsZero() {
			fmt.Println("ZERO")
		} else {
			fmt.Println(next.UTC().Format(time.RFC3339))
		}
	}
}
"""
ZONES = [
    "",
    "CRON_TZ=Europe/Paris ",
    "CRON_TZ=America/New_York ",
    "TZ=Asia/Kolkata ",
    "CRON_TZ=Australia/Lord_Howe ",
]


def _random_field(rng: random.Random, low: int, high: int) -> str:
    start = rng.randint(low, high)
    end = rng.randint(start, high)
    return rng.choice(
        [
            "*",
            f"*/{rng.randint(1, high - low + 1)}",
            str(start),
            f"{start}-{end}",
            f"{start}/{rng.randint(1, 5)}",
            f"{start}-{end}/{rng.randint(1, 5)}",
            ",".join(str(rng.randint(low, high)) for _ in range(3)),
            str(rng.randint(high - 2, high + 2)),  # sometimes out of range: both must refuse
        ]
    )


def _random_case(rng: random.Random) -> tuple[str, datetime]:
    if rng.random() < 0.1:
        expression = rng.choice(
            ["@yearly", "@monthly", "@weekly", "@daily", "@hourly", "@every 90s", "@every 1h30m"]
        )
    else:
        bounds = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 6)]
        expression = " ".join(_random_field(rng, low, high) for low, high in bounds)
    after = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randint(0, 3 * 365 * 86400))
    return rng.choice(ZONES) + expression, after


def test_the_parser_agrees_with_robfig_cron(tmp_path: Path) -> None:
    for name, text in (("go.mod", ROBFIG_MOD), ("go.sum", ROBFIG_SUM), ("main.go", ROBFIG_MAIN)):
        (tmp_path / name).write_text(text)
    environment = {
        **os.environ,
        "GOFLAGS": "-mod=mod -buildvcs=false",
        "GOPROXY": "off",
        "GOTOOLCHAIN": "local",
    }
    subprocess.run([find_go(), "build", "-o", "oracle", "."], cwd=tmp_path, env=environment, check=True)
    rng = random.Random(20261123)
    cases = [_random_case(rng) for _ in range(3000)]
    lines = "".join(f"{spec}\t{after.strftime('%Y-%m-%dT%H:%M:%SZ')}\n" for spec, after in cases)
    answer = subprocess.run(
        [str(tmp_path / "oracle")], input=lines, capture_output=True, text=True, check=True, env={"TZ": "UTC"}
    )
    differences = []
    for (spec, after), expected in zip(cases, answer.stdout.splitlines(), strict=True):
        try:
            tick = parse_expression(spec).next_after(after)
            ours = "ZERO" if tick is None else tick.strftime("%Y-%m-%dT%H:%M:%SZ")
        except ValueError as error:
            ours = f"ERR {error}"
        if ours != expected:
            differences.append((spec, after.isoformat(), expected, ours))
    assert differences == []
    assert (
        sum(1 for line in answer.stdout.splitlines() if line.startswith("ERR")) > 100
    )  # errors compared too
