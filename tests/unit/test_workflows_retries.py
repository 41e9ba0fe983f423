"""retryStrategy (limit, policies, backoff from injected time, maxDuration), deadlines and suspend."""

from __future__ import annotations

from datetime import timedelta

import pytest
from workflow_world import START, Outcome, World, default_behaviour

from analysis.workflows.actions import StartPod
from analysis.workflows.retries import RetryError, decide, humanize, parse_duration
from analysis.workflows.scheduler import resume
from analysis.workflows.spec import RetryStrategy
from analysis.workflows.status import NodeStatus

FLAKY = """
metadata: {name: retry-backoff-m2z9x}
spec:
  entrypoint: flaky
  templates:
  - name: flaky
    retryStrategy: %s
    container: {image: busybox, command: [sh, -c], args: ["exit 1"]}
"""


def attempt(phase: str, started: int, finished: int, message: str = "") -> NodeStatus:
    stamp = lambda seconds: (START + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    return NodeStatus(
        id="a",
        name="a",
        display_name="a",
        type="Pod",
        phase=phase,
        message=message,
        started_at=stamp(started),
        finished_at=stamp(finished),
    )


def at(seconds: int):  # type: ignore[no-untyped-def]
    return START + timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("strategy", "attempts", "now", "expected"),
    [
        ({}, [attempt("Failed", 0, 1)], 1, ("retry", None)),
        ({}, [attempt("Error", 0, 1, "boom")], 1, ("fail", "boom")),
        ({"retryPolicy": "OnError"}, [attempt("Failed", 0, 1, "exit 1")], 1, ("fail", "exit 1")),
        ({"retryPolicy": "OnError"}, [attempt("Error", 0, 1)], 1, ("retry", None)),
        ({"retryPolicy": "Always"}, [attempt("Error", 0, 1)], 1, ("retry", None)),
        (
            {"retryPolicy": "OnTransientError"},
            [attempt("Error", 0, 1, "dial: connection refused")],
            1,
            ("retry", None),
        ),
        (
            {"retryPolicy": "OnTransientError"},
            [attempt("Error", 0, 1, "exit code 1")],
            1,
            ("fail", "exit code 1"),
        ),
        ({"limit": 1}, [attempt("Failed", 0, 1)], 1, ("retry", None)),
        (
            {"limit": "1"},
            [attempt("Failed", 0, 1), attempt("Failed", 2, 3)],
            3,
            ("fail", "No more retries left"),
        ),
        ({"limit": 0}, [attempt("Failed", 0, 1)], 1, ("fail", "No more retries left")),
        ({"backoff": {"duration": "10s"}}, [attempt("Failed", 0, 1)], 5, ("wait", "Backoff for 10 seconds")),
        ({"backoff": {"duration": "10"}}, [attempt("Failed", 0, 1)], 11, ("retry", None)),
        (
            {"backoff": {"duration": "10s", "factor": 2}},
            [attempt("Failed", 0, 1), attempt("Failed", 11, 12)],
            20,
            ("wait", "Backoff for 20 seconds"),
        ),
        (
            {"backoff": {"duration": "1m", "factor": 3, "cap": "90s"}},
            [attempt("Failed", 0, 1), attempt("Failed", 61, 62)],
            70,
            ("wait", "Backoff for 1 minute 30 seconds"),
        ),
        (
            {"backoff": {"duration": "10s", "maxDuration": "15s"}},
            [attempt("Failed", 0, 1), attempt("Failed", 11, 12)],
            12,
            ("fail", "Backoff would exceed max duration limit"),
        ),
        (
            {"backoff": {"duration": "1s", "maxDuration": "15s"}},
            [attempt("Failed", 0, 16)],
            16,
            ("fail", "Max duration limit exceeded"),
        ),
        ({}, [attempt("Succeeded", 0, 1)], 1, ("succeed", None)),
    ],
)
def test_decide(
    strategy: dict, attempts: list[NodeStatus], now: int, expected: tuple[str, str | None]
) -> None:
    decision = decide(RetryStrategy.model_validate(strategy), attempts, at(now))
    assert (decision.action, decision.message if decision.action != "succeed" else None) == expected


def test_decide_stops_when_the_workflow_stops_and_obeys_the_expression() -> None:
    strategy = RetryStrategy(limit=5)
    assert decide(strategy, [attempt("Failed", 0, 1)], at(1), stopping=True).action == "fail"
    refused = decide(strategy, [attempt("Failed", 0, 1)], at(1), expression_allows=False)
    assert (refused.action, refused.message) == ("fail", "retryStrategy.expression evaluated to false")


@pytest.mark.parametrize(
    "strategy", [{"limit": "many"}, {"retryPolicy": "Sometimes"}, {"backoff": {"duration": "soon"}}]
)
def test_unreadable_strategies_raise(strategy: dict) -> None:
    with pytest.raises(RetryError):
        decide(RetryStrategy.model_validate(strategy), [attempt("Failed", 0, 1)], at(1))


def test_humanize_and_durations() -> None:
    assert [humanize(s) for s in (0, 1, 59, 61, 3600, 90061)] == [
        "0 seconds",
        "1 second",
        "59 seconds",
        "1 minute 1 second",
        "1 hour",
        "1 day 1 hour 1 minute 1 second",
    ]
    assert (
        parse_duration("90s", "x") == 90
        and parse_duration(" 20 ", "x") == 20
        and parse_duration(None, "x") is None
    )


def test_retry_succeeds_on_the_second_attempt_with_backoff_from_the_clock() -> None:
    world = World(FLAKY % '{limit: 3, retryPolicy: Always, backoff: {duration: "5s", factor: 2}}')
    calls: list[int] = []

    def behaviour(pod: StartPod) -> Outcome:
        calls.append(1)
        return default_behaviour(pod) if len(calls) == 1 else Outcome()

    status = world.run(behaviour)
    assert status.phase == "Succeeded"
    assert world.started_names() == ["(0)", "(1)"]
    first, second = world.node("(0)"), world.node("(1)")
    assert second.id == "retry-backoff-m2z9x-681080807"
    assert world.started[1].pod_name == "retry-backoff-m2z9x-flaky-681080807"
    assert (world.node("").type, world.node("").children) == ("Retry", [first.id, second.id])
    assert second.node_flag.retried and first.display_name == "retry-backoff-m2z9x(0)"
    waited = [
        d for d in world.decisions if d.status.nodes["retry-backoff-m2z9x"].message == "Backoff for 5 seconds"
    ]
    assert waited and waited[0].wake_at is not None
    gap = next(d.status.nodes[second.id].started_at for d in world.decisions if second.id in d.status.nodes)
    assert gap == (START + timedelta(seconds=6)).strftime("%Y-%m-%dT%H:%M:%SZ")  # finished at 1, waited 5


def test_retries_end_with_no_more_retries_left_and_expose_retries_variables() -> None:
    world = World("""
metadata: {name: wf}
spec:
  entrypoint: flaky
  templates:
  - name: flaky
    retryStrategy: {limit: "2"}
    container: {image: busybox, command: [sh, -c], args: ["exit 1", "{{retries}} {{lastRetry.status}}"]}
""")
    status = world.run()
    assert world.started_names() == ["(0)", "(1)", "(2)"]
    assert [a.template["container"]["args"][1] for a in world.started] == ["0 ", "1 Failed", "2 Failed"]
    assert (status.phase, status.message) == ("Failed", "No more retries left")


def test_a_retried_steps_template_reruns_the_whole_sub_graph() -> None:
    world = World("""
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: build, template: pipeline}
  - name: pipeline
    retryStrategy: {limit: 1}
    steps:
    - - {name: compile, template: flaky}
  - name: flaky
    container: {image: busybox, command: [sh, -c], args: ["exit 1"]}
""")
    status = world.run()
    assert world.started_names() == ["[0].build(0)[0].compile", "[0].build(1)[0].compile"]
    assert world.node("[0].build").type == "Retry"
    assert world.node("[0].build(1)").type == "Steps"
    assert status.phase == "Failed"


def test_workflow_deadline_fails_running_pods_and_stops_new_work_but_not_the_exit_handler() -> None:
    world = World("""
spec:
  entrypoint: main
  activeDeadlineSeconds: 5
  onExit: bye
  templates:
  - name: main
    steps:
    - - {name: slow, template: slow}
    - - {name: never, template: slow}
  - name: slow
    container: {image: busybox, command: [sleep, "100"]}
  - name: bye
    container: {image: busybox, command: [echo, bye]}
""")
    status = world.run(lambda pod: Outcome(seconds=100 if "slow" in pod.node_name else 1))
    slow = world.node("[0].slow")
    assert (slow.phase, slow.message) == ("Failed", "Step exceeded its deadline")
    assert [stop.node_id for stop in world.stopped] == [slow.id]
    assert world.node(".onExit").phase == "Succeeded"
    assert "[1].never" not in world.phases()
    assert status.phase == "Failed"
    assert world.started[0].deadline == START + timedelta(seconds=5)
    assert world.started[-1].deadline is None  # the exit handler is not subject to the deadline


def test_template_deadline_fails_the_pod_with_kubernetes_message_and_is_retryable() -> None:
    world = World("""
spec:
  entrypoint: slow
  arguments: {parameters: [{name: limit, value: "3"}]}
  templates:
  - name: slow
    activeDeadlineSeconds: "{{workflow.parameters.limit}}"
    retryStrategy: {limit: 1, retryPolicy: Always}
    container: {image: busybox, command: [sleep, "100"]}
""")
    status = world.run(lambda pod: Outcome(seconds=100))
    first = world.node("(0)")
    assert (first.phase, first.message) == (
        "Failed",
        "Pod was active on the node longer than the specified deadline",
    )
    assert world.started[0].deadline == START + timedelta(seconds=3)
    assert world.started_names() == ["(0)", "(1)"]
    assert status.phase == "Failed"


def test_shutdown_stop_runs_the_exit_handler_and_terminate_does_not() -> None:
    manifest = """
spec:
  entrypoint: slow
  onExit: bye
  templates:
  - name: slow
    container: {image: busybox, command: [sleep, "100"]}
  - name: bye
    container: {image: busybox, command: [echo, bye]}
"""
    for strategy, handler_ran in (("Stop", True), ("Terminate", False)):
        world = World(manifest)
        world.step()
        world.workflow.spec.shutdown = strategy
        status = world.run()
        assert status.phase == "Failed"
        assert status.message == f"Stopped with strategy '{strategy}'"
        assert (".onExit" in world.phases()) is handler_ran


def test_suspend_with_a_duration_resumes_by_itself_and_without_one_waits_for_resume() -> None:
    world = World("""
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: wait, template: wait}
    - - {name: approve, template: approve}
  - name: wait
    suspend: {duration: "10s"}
  - name: approve
    suspend: {}
    outputs: {parameters: [{name: answer, valueFrom: {supplied: {}, default: "no"}}]}
""")
    decision = world.step()
    assert world.node("[0].wait").type == "Suspend" and world.node("[0].wait").phase == "Running"
    assert decision.wake_at == START + timedelta(seconds=10)
    world.now = START + timedelta(seconds=10)
    world.step()
    assert world.node("[0].wait").phase == "Succeeded"
    assert world.node("[1].approve").phase == "Running"
    world.now += timedelta(hours=5)
    world.step()
    assert world.node("[1].approve").phase == "Running"
    world.status = resume(world.status, world.now, world.workflow, "approve", {"answer": "yes"})
    status = world.run()
    assert status.phase == "Succeeded"
    assert world.node("[1].approve").outputs.parameters[0].value == "yes"


def test_a_suspended_workflow_starts_nothing_new_until_resumed() -> None:
    world = World("""
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: a, template: echo}
    - - {name: b, template: echo}
  - name: echo
    container: {image: busybox, command: [echo, hi]}
""")
    world.step()
    world.workflow.spec.suspend = True
    world.report("[0].a", Outcome())
    for _ in range(3):
        decision = world.step()
        assert decision.actions == ()
    assert "[1].b" not in world.phases() and world.status.phase == "Running"
    world.workflow.spec.suspend = False
    assert world.run().phase == "Succeeded"
