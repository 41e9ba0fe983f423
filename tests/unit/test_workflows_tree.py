"""The ``argo get`` screen of ``rollouts workflow``: tree prefixes, hidden nodes, columns, colour.

Statuses come from the pure scheduler driven by ``workflow_world`` (exact timestamps), so the
snapshots are of real node trees; the expected STEP columns are reference §9.3's renderings.
"""

from __future__ import annotations

from datetime import timedelta

from workflow_world import START, World, default_behaviour

from rollouts.plugin.terminal import Palette, strip_ansi
from rollouts.workflowcli.tree import RunView, long_duration, render_run, render_table, short_duration

CI_PIPELINE = """
metadata: {name: ci-pipeline-x7k2p}
spec:
  entrypoint: pipeline
  onExit: notify
  templates:
  - name: pipeline
    steps:
    - - {name: build, template: run, arguments: {parameters: [{name: code, value: "0"}]}}
    - - {name: test-unit, template: run, arguments: {parameters: [{name: code, value: "1"}]}}
      - {name: test-lint, template: run, arguments: {parameters: [{name: code, value: "0"}]}}
  - name: run
    inputs: {parameters: [{name: code}]}
    container: {image: alpine, command: [sh, -c], args: ["exit {{inputs.parameters.code}}"]}
  - name: notify
    container: {image: alpine, command: [echo, done]}
"""

DIAMOND = """
metadata: {name: dag-diamond-8q7vp}
spec:
  entrypoint: diamond
  templates:
  - name: diamond
    dag:
      tasks:
      - {name: A, template: echo}
      - {name: B, template: echo, dependencies: [A]}
      - {name: C, template: echo, dependencies: [A]}
      - {name: D, template: echo, dependencies: [B, C]}
  - name: echo
    container: {image: alpine, command: [echo, hi]}
"""

FANOUT = """
metadata: {name: fanout-q4w8n}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: work
        template: work
        withItems: [a, b, c]
        arguments: {parameters: [{name: letter, value: "{{item}}"}]}
    - - {name: collect, template: collect}
  - name: work
    inputs: {parameters: [{name: letter}]}
    container: {image: alpine, command: [echo, "{{inputs.parameters.letter}}"]}
  - name: collect
    container: {image: alpine, command: [echo, collected]}
"""

RETRY = """
metadata: {name: retry-backoff-m2z9x}
spec:
  entrypoint: flaky
  templates:
  - name: flaky
    retryStrategy: {limit: 3}
    container: {image: alpine, command: [sh, -c], args: ["exit {{retries}}"]}
"""


def table(manifest: str, behaviour: object = default_behaviour) -> list[str]:
    world = World(manifest)
    status = world.run(behaviour)  # type: ignore[arg-type]
    view = RunView(world.name, "default", status)
    return render_table(view, START + timedelta(minutes=5), Palette())


def step_column(lines: list[str]) -> list[str]:
    width = lines[0].index("TEMPLATE")
    return [line[:width].rstrip() for line in lines[1:]]


def test_steps_with_a_parallel_group_and_an_exit_handler_match_argo() -> None:
    # same started instant: siblings sorted by name, as Argo does (test-lint before test-unit)
    assert table(CI_PIPELINE) == [
        "STEP                         TEMPLATE  PODNAME                              DURATION  MESSAGE",
        " ✖ ci-pipeline-x7k2p         pipeline                                                 "
        "child 'ci-pipeline-x7k2p-2602792901' failed",
        " ├───✔ build                 run       ci-pipeline-x7k2p-run-608150585      1s",
        " └─┬─✔ test-lint             run       ci-pipeline-x7k2p-run-2726037394     1s",
        "   └─✖ test-unit             run       ci-pipeline-x7k2p-run-2602792901     1s        "
        "main: Error (exit code 1)",
        "",
        " ✔ ci-pipeline-x7k2p.onExit  notify    ci-pipeline-x7k2p-notify-3261187210  1s",
    ]


def test_a_dag_diamond_hangs_every_task_under_the_dag() -> None:
    assert step_column(table(DIAMOND)) == [
        " ✔ dag-diamond-8q7vp",
        " ├─✔ A",
        " ├─✔ B",
        " ├─✔ C",
        " └─✔ D",
    ]


def test_a_loop_group_is_drawn_as_a_fan_in_loop_order() -> None:
    assert step_column(table(FANOUT)) == [
        " ✔ fanout-q4w8n",
        " ├─┬─✔ work(0:a)",
        " │ ├─✔ work(1:b)",
        " │ └─✔ work(2:c)",
        " └───✔ collect",
    ]


def test_retry_attempts_of_the_entrypoint_hang_under_it() -> None:
    # a single attempt is drawn in place of its Retry node
    assert step_column(table(RETRY)) == [" ✔ retry-backoff-m2z9x(0)"]
    lines = step_column(table(RETRY.replace("exit {{retries}}", "exit {{=asInt(retries) == 0 ? 1 : 0}}")))
    assert lines == [
        " ✔ retry-backoff-m2z9x",
        " ├─✖ retry-backoff-m2z9x(0)",
        " └─✔ retry-backoff-m2z9x(1)",
    ]


def test_a_skipped_step_shows_a_circle_and_no_pod() -> None:
    manifest = CI_PIPELINE.replace("      - {name: test-lint,", "      - {name: test-lint, when: 'a == b',")
    lines = table(manifest)
    skipped = next(line for line in lines if "test-lint" in line)
    assert "○ test-lint" in skipped
    assert "ci-pipeline-x7k2p-run-" not in skipped


def test_colour_is_added_after_padding_so_columns_stay_aligned() -> None:
    world = World(DIAMOND)
    view = RunView(world.name, "default", world.run())
    plain = render_run(view, START, Palette(False))
    coloured = render_run(view, START, Palette(True))
    assert "\x1b[32m✔\x1b[0m" in coloured
    assert strip_ansi(coloured) == plain
    assert "\x1b[" not in plain


def test_the_header_block_names_the_run_its_parameters_and_outputs() -> None:
    world = World(DIAMOND)
    status = world.run()
    view = RunView(world.name, "ns", status, parameters=[("rows", "3")], created=status.started_at)
    text = render_run(view, START + timedelta(seconds=65), Palette())
    assert text.splitlines()[:4] == [
        "Name:               dag-diamond-8q7vp",
        "Namespace:          ns",
        "ServiceAccount:     unset (will run with the default ServiceAccount)",
        "Status:             Succeeded",
    ]
    assert "Created:            Thu Jan 01 00:00:00 +0000 (1 minute 5 seconds ago)" in text
    assert "Parameters:\n  rows: 3\n" in text
    assert "Progress:           4/4" in text


def test_durations_are_printed_as_argo_prints_them() -> None:
    assert [short_duration(s) for s in (0, 45, 185, 7300, 90000)] == ["0s", "45s", "3m", "2h", "1d"]
    assert [long_duration(s) for s in (0, 1, 27, 65, 3720)] == [
        "0 seconds",
        "1 second",
        "27 seconds",
        "1 minute 5 seconds",
        "1 hour 2 minutes",
    ]


def test_a_terminated_or_suspended_run_qualifies_its_status() -> None:
    world = World(DIAMOND)
    status = world.run()
    failed = status.model_copy(update={"phase": "Failed"})
    assert "Status:             Failed (Terminated)" in render_run(
        RunView("x", "ns", failed, shutdown="Terminate"), START, Palette()
    )
