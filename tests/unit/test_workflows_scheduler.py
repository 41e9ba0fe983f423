"""Scheduler transitions: steps, DAGs, conditions, loops, parameters, exit handlers (pure, no I/O)."""

from __future__ import annotations

import json

import pytest
from workflow_world import Outcome, World, default_behaviour

from analysis.workflows.actions import StartPod

ECHO = """
  - name: echo
    inputs: {parameters: [{name: message, value: hi}]}
    container: {image: busybox, command: [echo], args: ["{{inputs.parameters.message}}"]}
"""
FAIL = """
  - name: fail
    container: {image: busybox, command: [sh, -c], args: ["exit 1"]}
"""


def test_steps_run_groups_in_sequence_and_steps_of_a_group_in_parallel() -> None:
    world = World(
        """
metadata: {name: steps-z2zdn}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: hello1, template: echo}
    - - {name: hello2a, template: echo}
      - {name: hello2b, template: echo}
"""
        + ECHO
    )
    world.step()
    assert [a.node_name for a in world.decisions[-1].actions if isinstance(a, StartPod)] == [
        "steps-z2zdn[0].hello1"
    ]
    status = world.run()
    assert status.phase == "Succeeded"
    assert world.started_names() == ["[0].hello1", "[1].hello2a", "[1].hello2b"]
    assert world.started[1].pod_name == "steps-z2zdn-echo-2006760091"
    group0, group1 = world.node("[0]"), world.node("[1]")
    assert (group0.id, group0.type, group0.display_name) == ("steps-z2zdn-108230077", "StepGroup", "[0]")
    assert world.node("[0].hello1").children == [group1.id]
    assert group1.children == [world.node("[1].hello2a").id, world.node("[1].hello2b").id]
    assert world.node("").outbound_nodes == group1.children
    assert status.progress == "3/3"
    assert {node.boundary_id for node in status.nodes.values() if node.name != "steps-z2zdn"} == {
        "steps-z2zdn"
    }


def test_a_failed_step_fails_its_group_after_siblings_finish_and_later_groups_never_start() -> None:
    world = World(
        """
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: bad, template: fail}
      - {name: slow, template: echo}
    - - {name: never, template: echo}
"""
        + ECHO
        + FAIL
    )

    def behaviour(pod: StartPod) -> Outcome:
        outcome = default_behaviour(pod)
        outcome.seconds = 5 if "slow" in pod.node_name else 1
        return outcome

    status = world.run(behaviour)
    bad = world.node("[0].bad")
    assert world.phases() == {
        "<root>": "Failed",
        "[0]": "Failed",
        "[0].bad": "Failed",
        "[0].slow": "Succeeded",
    }
    assert status.phase == "Failed"
    assert status.message == world.node("").message == f"child '{bad.id}' failed"
    assert bad.message == "main: Error (exit code 1)"


def test_continue_on_failed_lets_the_next_group_run() -> None:
    world = World(
        """
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: bad, template: fail, continueOn: {failed: true}}
    - - {name: next, template: echo}
"""
        + ECHO
        + FAIL
    )
    status = world.run()
    assert status.phase == "Succeeded"
    assert world.phases()["[0].bad"] == "Failed"
    assert world.phases()["[1].next"] == "Succeeded"


def test_parameters_flow_from_workflow_arguments_and_earlier_step_outputs() -> None:
    world = World(
        """
spec:
  entrypoint: main
  arguments: {parameters: [{name: who, value: world}]}
  templates:
  - name: main
    inputs: {parameters: [{name: who}]}
    steps:
    - - name: gen
        template: gen
    - - name: use
        template: echo
        arguments:
          parameters:
          - name: message
            value: >-
              {{inputs.parameters.who}} {{steps.gen.outputs.parameters.p}} {{steps.gen.outputs.result}}
              {{workflow.parameters.who}}
  - name: gen
    outputs: {parameters: [{name: p, valueFrom: {path: /tmp/p}}]}
    script: {image: python, command: [python], source: "print('r')"}
"""
        + ECHO
    )

    def behaviour(pod: StartPod) -> Outcome:
        if "gen" in pod.node_name:
            assert pod.capture_result
            return Outcome(result="r", parameters={"p": "P"})
        return default_behaviour(pod)

    world.run(behaviour)
    use = world.started[-1]
    assert use.template["container"]["args"] == ["world P r world"]
    assert use.template["inputs"]["parameters"] == [{"name": "message", "value": "world P r world"}]
    assert world.node("[1].use").inputs.parameters[0].value == "world P r world"


def test_container_stdout_is_captured_only_when_a_caller_references_it() -> None:
    world = World(
        """
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: a, template: echo}
      - {name: b, template: echo}
    - - name: c
        template: echo
        arguments: {parameters: [{name: message, value: "{{steps.a.outputs.result}}"}]}
"""
        + ECHO
    )
    world.run()
    captures = {action.node_name.split(".")[-1]: action.capture_result for action in world.started}
    assert captures == {"a": True, "b": False, "c": False}


def test_when_false_skips_with_argo_message_and_an_error_in_when_errors_the_group() -> None:
    world = World(
        """
spec:
  entrypoint: main
  arguments: {parameters: [{name: env, value: production}]}
  templates:
  - name: main
    steps:
    - - {name: flip, template: echo, arguments: {parameters: [{name: message, value: heads}]}}
    - - {name: heads, template: echo, when: "{{steps.flip.outputs.result}} == heads"}
      - {name: tails, template: echo, when: "{{steps.flip.outputs.result}} == tails"}
      - {name: deploy, template: echo, when: "{{workflow.parameters.env}} != production"}
"""
        + ECHO
    )
    status = world.run()
    assert status.phase == "Succeeded"
    tails = world.node("[1].tails")
    assert (tails.type, tails.phase, tails.message) == (
        "Skipped",
        "Skipped",
        "when 'heads == tails' evaluated false",
    )
    assert world.node("[1].deploy").message == "when 'production != production' evaluated false"
    assert world.phases()["[1].heads"] == "Succeeded"
    assert status.progress == "2/2"

    broken = World(
        """
spec:
  entrypoint: main
  arguments: {parameters: [{name: env, value: my-env}]}
  templates:
  - name: main
    steps:
    - - {name: deploy, template: echo, when: "{{workflow.parameters.env}} == prod"}
"""
        + ECHO
    )
    status = broken.run()
    deploy = broken.node("[0].deploy")
    assert (deploy.type, deploy.phase) == ("Skipped", "Error")
    assert deploy.message.startswith("Invalid 'when' expression 'my-env == prod': ")
    assert status.phase == "Failed"


def test_dag_diamond_runs_b_and_c_in_parallel_then_d() -> None:
    world = World(
        """
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
"""
        + ECHO
    )
    status = world.run()
    assert status.phase == "Succeeded"
    starts = [
        [a.node_name.rsplit(".", 1)[1] for a in d.actions if isinstance(a, StartPod)] for d in world.decisions
    ]
    assert [names for names in starts if names] == [["A"], ["B", "C"], ["D"]]
    a, b, c, d = (world.node(f".{name}") for name in "ABCD")
    assert a.id == "dag-diamond-8q7vp-460213972" and d.id == "dag-diamond-8q7vp-409881115"
    assert world.node("").children == [a.id]
    assert a.children == [b.id, c.id] and b.children == [d.id] and c.children == [d.id]
    assert world.node("").outbound_nodes == [d.id]
    assert world.started[0].pod_name == "dag-diamond-8q7vp-echo-460213972"


def test_dag_fail_fast_stops_new_tasks_and_failfast_false_runs_independent_branches() -> None:
    manifest = (
        """
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      failFast: {fail_fast}
      tasks:
      - {{name: A, template: fail}}
      - {{name: B, template: echo}}
      - {{name: C, template: echo, dependencies: [B]}}
      - {{name: D, template: echo, dependencies: [A]}}
"""
        + ECHO.replace("{", "{{").replace("}", "}}")
        + FAIL.replace("{", "{{").replace("}", "}}")
    )

    def slow_b(pod: StartPod) -> Outcome:
        outcome = default_behaviour(pod)
        outcome.seconds = 3 if pod.node_name.endswith(".B") else 1
        return outcome

    fast = World(manifest.format(fail_fast="true"))
    status = fast.run(slow_b)
    assert fast.phases() == {"<root>": "Failed", ".A": "Failed", ".B": "Succeeded"}
    assert status.message == f"child '{fast.node('.A').id}' failed"

    slow = World(manifest.format(fail_fast="false"))
    status = slow.run(slow_b)
    assert slow.phases() == {
        "<root>": "Failed",
        ".A": "Failed",
        ".B": "Succeeded",
        ".C": "Succeeded",
        ".D": "Omitted",
    }
    assert slow.node(".D").message == "omitted: depends condition not met"
    assert status.phase == "Failed"


def test_enhanced_depends_runs_failure_handlers_and_omits_the_rest() -> None:
    manifest = (
        """
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: A, template: fail}
      - {name: B, template: echo}
      - {name: on-fail, template: echo, depends: "A.Failed"}
      - {name: either, template: echo, depends: "(A.Succeeded || A.Failed) && B"}
      - {name: not-skipped, template: echo, depends: "!B.Skipped"}
"""
        + ECHO
        + FAIL
    )
    world = World(manifest)
    status = world.run()
    assert world.phases() == {
        "<root>": "Succeeded",
        ".A": "Failed",
        ".B": "Succeeded",
        ".on-fail": "Succeeded",
        ".either": "Succeeded",
        ".not-skipped": "Succeeded",
    }
    assert status.phase == "Succeeded"

    # an omitted target inherits the failure of its ancestor: the DAG fails
    world = World(
        manifest.replace(
            "      - {name: B,",
            "      - {name: on-ok, template: echo, depends: A.Succeeded}\n      - {name: B,",
        )
    )
    status = world.run()
    on_ok = world.node(".on-ok")
    assert (on_ok.type, on_ok.phase, on_ok.message) == (
        "Skipped",
        "Omitted",
        "omitted: depends condition not met",
    )
    assert status.phase == "Failed"
    assert status.message == f"child '{world.node('.A').id}' failed"


def test_dag_target_runs_only_targets_and_their_ancestors() -> None:
    world = World(
        """
spec:
  entrypoint: main
  arguments: {parameters: [{name: target, value: C}]}
  templates:
  - name: main
    dag:
      target: "{{workflow.parameters.target}}"
      tasks:
      - {name: A, template: echo}
      - {name: B, template: echo}
      - {name: C, template: echo, dependencies: [A]}
"""
        + ECHO
    )
    world.run()
    assert sorted(world.phases()) == [".A", ".C", "<root>"]


def test_dag_tasks_see_ancestor_outputs_and_dag_outputs_come_from_tasks() -> None:
    world = World(
        """
spec:
  entrypoint: main
  templates:
  - name: main
    outputs:
      parameters:
      - {name: final, valueFrom: {parameter: "{{tasks.B.outputs.result}}"}, globalName: final}
    dag:
      tasks:
      - {name: A, template: echo, arguments: {parameters: [{name: message, value: one}]}}
      - name: B
        template: echo
        dependencies: [A]
        arguments: {parameters: [{name: message, value: "{{tasks.A.outputs.result}}-two"}]}
"""
        + ECHO
    )
    status = world.run()
    assert world.node("").outputs.parameters[0].value == "one-two"
    assert status.outputs.parameters[0].model_dump(exclude_none=True) == {"name": "final", "value": "one-two"}


def test_steps_loop_children_hang_under_the_group_and_aggregate_outputs() -> None:
    world = World(
        """
metadata: {name: loops-4bkx2}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: print-message-loop
        template: echo
        withItems: [hello world, goodbye world]
        arguments: {parameters: [{name: message, value: "{{item}}"}]}
    - - name: maps
        template: echo
        withItems: [{os: debian, tag: "9.1"}, {os: ubuntu, tag: "22.04"}]
        arguments: {parameters: [{name: message, value: "{{item.os}}:{{item.tag}}"}]}
    - - name: seq
        template: echo
        withSequence: {count: "2", start: "5", format: "n-%02d"}
        arguments: {parameters: [{name: message, value: "{{item}}"}]}
    - - name: param
        template: echo
        withParam: "{{steps.maps.outputs.result}}"
        arguments: {parameters: [{name: message, value: "got {{item}}"}]}
"""
        + ECHO
    )
    status = world.run()
    assert status.phase == "Succeeded"
    first = world.node("[0].print-message-loop(0:hello world)")
    assert first.id == "loops-4bkx2-2705457687"
    assert world.node("[0]").children == [first.id, world.node("[0].print-message-loop(1:goodbye world)").id]
    assert world.node("[1].maps(1:os:ubuntu,tag:22.04)").phase == "Succeeded"
    assert [a.template["container"]["args"][0] for a in world.started[4:6]] == ["n-05", "n-06"]
    # the maps loop printed "debian:9.1" and "ubuntu:22.04": not JSON, aggregated as strings
    assert [a.template["container"]["args"][0] for a in world.started[6:]] == [
        "got debian:9.1",
        "got ubuntu:22.04",
    ]


def test_parameter_aggregation_feeds_with_param_and_per_item_when() -> None:
    world = World(
        """
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: gen
        template: gen
        withItems: [1, 2, 3]
        arguments: {parameters: [{name: n, value: "{{item}}"}]}
    - - name: even
        template: echo
        withParam: "{{steps.gen.outputs.parameters}}"
        when: "{{item.evenness}} == even"
        arguments: {parameters: [{name: message, value: "{{item.num}}"}]}
    - - name: all
        template: echo
        arguments:
          parameters:
          - {name: message, value: "{{steps.gen.outputs.parameters.num}} {{steps.gen.outputs.result}}"}
  - name: gen
    inputs: {parameters: [{name: n}]}
    outputs:
      parameters:
      - {name: num, valueFrom: {path: /tmp/num}}
      - {name: evenness, valueFrom: {path: /tmp/evenness}}
    script: {image: python, command: [python], source: "print({{inputs.parameters.n}})"}
"""
        + ECHO
    )

    def behaviour(pod: StartPod) -> Outcome:
        if pod.template.get("script"):
            number = pod.template["inputs"]["parameters"][0]["value"]
            evenness = "even" if int(number) % 2 == 0 else "odd"
            return Outcome(result=number, parameters={"num": number, "evenness": evenness})
        return default_behaviour(pod)

    status = world.run(behaviour)
    assert status.phase == "Succeeded"
    even = {name: phase for name, phase in world.leaf_phases().items() if name.startswith("[1]")}
    assert even == {
        "[1].even(0:evenness:odd,num:1)": "Skipped",
        "[1].even(1:evenness:even,num:2)": "Succeeded",
        "[1].even(2:evenness:odd,num:3)": "Skipped",
    }
    assert world.started[-1].template["container"]["args"] == ['["1","2","3"] [1,2,3]']


def test_empty_loops_aggregate_to_an_empty_list() -> None:
    world = World(
        """
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: none, template: echo, withItems: []}
    - - name: after
        template: echo
        arguments: {parameters: [{name: message, value: "{{steps.none.outputs.result}}"}]}
"""
        + ECHO
    )
    world.run()
    assert world.started[-1].template["container"]["args"] == ["[]"]


def test_dag_loops_use_a_task_group_and_any_succeeded() -> None:
    world = World(
        """
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      failFast: false
      tasks:
      - name: fan
        template: maybe
        withItems: ["0", "1"]
        arguments: {parameters: [{name: code, value: "{{item}}"}]}
      - {name: any, template: echo, depends: fan.AnySucceeded}
      - {name: all-failed, template: echo, depends: fan.AllFailed}
      - {name: empty, template: echo, withItems: []}
  - name: maybe
    inputs: {parameters: [{name: code}]}
    container: {image: busybox, command: [sh, -c], args: ["exit {{inputs.parameters.code}}"]}
"""
        + ECHO
    )
    status = world.run()
    fan = world.node(".fan")
    assert (fan.type, fan.phase) == ("TaskGroup", "Failed")
    assert [world.status.nodes[child].name for child in fan.children] == ["wf.fan(0:0)", "wf.fan(1:1)"]
    assert world.phases()[".any"] == "Succeeded"
    assert world.phases()[".all-failed"] == "Omitted"
    empty = world.node(".empty")
    assert (empty.type, empty.phase, empty.message) == ("Skipped", "Skipped", "Skipped, empty params")
    assert status.phase == "Failed"


def test_bad_with_param_is_an_error_node_with_argo_message() -> None:
    world = World(
        """
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: loop, template: echo, withParam: "not json"}
"""
        + ECHO
    )
    status = world.run()
    loop = world.node("[0].loop")
    assert loop.phase == "Error"
    assert loop.message.startswith("withParam value could not be parsed as a JSON list: not json: ")
    assert (status.phase, status.message) == ("Failed", f"child '{loop.id}' failed")


def test_skipped_producer_output_drops_the_argument_so_the_default_applies() -> None:
    world = World(
        """
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: gen, template: gen, when: "1 == 2"}
    - - name: use
        template: echo
        arguments: {parameters: [{name: message, value: "{{steps.gen.outputs.parameters.p}}"}]}
  - name: gen
    outputs: {parameters: [{name: p, valueFrom: {path: /tmp/p}}]}
    container: {image: busybox, command: [echo]}
"""
        + ECHO
    )
    world.run()
    assert world.started[-1].template["container"]["args"] == ["hi"]


def test_exit_handler_sees_workflow_status_and_failures_and_runs_after_a_failure() -> None:
    world = World(
        """
metadata: {name: exit-handlers-p7tq4}
spec:
  entrypoint: main
  onExit: exit-handler
  templates:
  - name: main
    steps:
    - - {name: bad, template: fail}
  - name: exit-handler
    steps:
    - - {name: celebrate, template: echo, when: "{{workflow.status}} == Succeeded"}
      - name: cry
        template: echo
        when: "{{workflow.status}} != Succeeded"
        arguments: {parameters: [{name: message, value: "{{workflow.status}} {{workflow.failures}}"}]}
"""
        + ECHO
        + FAIL
    )
    status = world.run()
    handler = world.node(".onExit")
    assert handler.id == "exit-handlers-p7tq4-527152137"
    assert (handler.boundary_id, handler.node_flag.hooked, handler.display_name) == (
        None,
        True,
        "exit-handlers-p7tq4.onExit",
    )
    assert world.phases()[".onExit[0].celebrate"] == "Skipped"
    message = world.started[-1].template["container"]["args"][0]
    status_text, failures = message.split(" ", 1)
    assert status_text == "Failed"
    assert json.loads(failures)[0]["displayName"] == "bad"
    assert status.phase == "Failed"


def test_a_failing_exit_handler_turns_success_into_failure() -> None:
    world = World(
        """
spec:
  entrypoint: echo
  onExit: fail
  templates:
"""
        + ECHO
        + FAIL
    )
    status = world.run()
    assert world.phases() == {"<root>": "Succeeded", ".onExit": "Failed"}
    assert (status.phase, status.message) == ("Failed", "main: Error (exit code 1)")


def test_step_level_exit_hook_runs_before_the_next_group() -> None:
    world = World(
        """
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: a
        template: echo
        hooks:
          exit: {template: echo, arguments: {parameters: [{name: message, value: "{{steps.a.status}}"}]}}
    - - {name: b, template: echo}
"""
        + ECHO
    )
    world.run()
    assert world.started_names() == ["[0].a", "[0].a.onExit", "[1].b"]
    assert world.started[1].template["container"]["args"] == ["Succeeded"]
    assert world.node("[0].a.onExit").id in world.node("[0].a").children


def test_template_parallelism_and_workflow_parallelism_limit_running_children() -> None:
    world = World(
        """
spec:
  entrypoint: main
  templates:
  - name: main
    parallelism: 2
    steps:
    - - {name: loop, template: echo, withItems: [a, b, c, d, e]}
"""
        + ECHO
    )
    world.run()
    started = [[a.node_name for a in d.actions if isinstance(a, StartPod)] for d in world.decisions]
    assert max(len(names) for names in started) == 2

    limited = World(
        """
spec:
  entrypoint: main
  parallelism: 1
  templates:
  - name: main
    dag:
      tasks:
      - {name: A, template: echo}
      - {name: B, template: echo}
      - {name: C, template: echo}
"""
        + ECHO
    )
    status = limited.run()
    assert status.phase == "Succeeded"
    assert all(len([a for a in d.actions if isinstance(a, StartPod)]) <= 1 for d in limited.decisions)


def test_template_fail_fast_stops_starting_loop_iterations() -> None:
    world = World("""
spec:
  entrypoint: main
  templates:
  - name: main
    parallelism: 1
    failFast: true
    steps:
    - - name: loop
        template: maybe
        withItems: ["1", "0", "0"]
        arguments: {parameters: [{name: code, value: "{{item}}"}]}
  - name: maybe
    inputs: {parameters: [{name: code}]}
    container: {image: busybox, command: [sh, -c], args: ["exit {{inputs.parameters.code}}"]}
""")
    status = world.run()
    assert world.started_names() == ["[0].loop(0:1)"]
    assert status.message == "template has failed or errored children and failFast enabled"


def test_template_ref_resolves_in_the_library_and_is_stored() -> None:
    library = {
        (False, "lib"): """
templates:
- name: greet
  inputs: {parameters: [{name: who, value: lib}]}
  steps:
  - - name: inner
      template: say
      arguments: {parameters: [{name: m, value: "{{inputs.parameters.who}} {{workflow.parameters.g}}"}]}
- name: say
  inputs: {parameters: [{name: m}]}
  container: {image: busybox, command: [echo], args: ["{{inputs.parameters.m}}"]}
"""
    }
    world = World(
        """
spec:
  entrypoint: main
  arguments: {parameters: [{name: g, value: global}]}
  templates:
  - name: main
    steps:
    - - {name: call, templateRef: {name: lib, template: greet}}
""",
        library=library,
    )
    status = world.run()
    assert status.phase == "Succeeded"
    assert world.started[0].template["container"]["args"] == ["lib global"]
    call = world.node("[0].call")
    assert (call.template_scope, call.template_ref.name) == ("namespaced/lib", "lib")
    assert world.node("[0].call[0].inner").template_scope == "namespaced/lib"
    assert set(status.stored_templates) == {"namespaced/lib/greet"}


def test_unknown_template_ref_is_a_validation_error() -> None:
    world = World(
        """
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: call, templateRef: {name: lib, template: nope}}
""",
        library={},
    )
    status = world.run()
    assert status.phase == "Error"
    assert "template reference lib.nope not found" in status.message


@pytest.mark.parametrize("phase", ["Succeeded", "Failed"])
def test_root_pod_workflow_takes_its_pod_phase(phase: str) -> None:
    world = World(
        """
metadata: {name: hello-world-9tql2}
spec:
  entrypoint: echo
  templates:
"""
        + ECHO
    )
    status = world.run(lambda pod: Outcome(phase))
    assert world.started[0].pod_name == "hello-world-9tql2"
    assert status.phase == phase


def test_reference_worked_example_status_shape() -> None:
    """Reference §6.7: names, IDs, wiring, messages, progress and pod names of a failed pipeline."""
    world = World("""
metadata: {name: ci-pipeline-x7k2p}
spec:
  entrypoint: pipeline
  onExit: notify
  templates:
  - name: pipeline
    steps:
    - - {name: build, template: run}
    - - {name: test-unit, template: run, arguments: {parameters: [{name: code, value: "1"}]}}
      - {name: test-lint, template: run}
  - name: run
    inputs: {parameters: [{name: code, value: "0"}]}
    container: {image: busybox, command: [sh, -c], args: ["exit {{inputs.parameters.code}}"]}
  - name: notify
    container: {image: busybox, command: [echo, done]}
""")
    status = world.run()
    nodes = {node.id: node for node in status.nodes.values()}
    prefix = "ci-pipeline-x7k2p-"
    root = nodes["ci-pipeline-x7k2p"]
    assert (root.type, root.template_name, root.phase) == ("Steps", "pipeline", "Failed")
    assert root.children == [prefix + "1664206031"]
    assert root.outbound_nodes == [prefix + "2602792901", prefix + "2726037394"]
    assert nodes[prefix + "1664206031"].children == [prefix + "608150585"]
    assert nodes[prefix + "608150585"].children == [prefix + "1731463602"]
    group1 = nodes[prefix + "1731463602"]
    assert (group1.display_name, group1.phase, group1.message) == (
        "[1]",
        "Failed",
        "child 'ci-pipeline-x7k2p-2602792901' failed",
    )
    assert group1.children == [prefix + "2602792901", prefix + "2726037394"]
    unit = nodes[prefix + "2602792901"]
    assert (unit.display_name, unit.message, unit.progress, unit.outputs.exit_code) == (
        "test-unit",
        "main: Error (exit code 1)",
        "0/1",
        "1",
    )
    handler = nodes[prefix + "3261187210"]
    assert (handler.name, handler.type, handler.phase, handler.node_flag.hooked) == (
        "ci-pipeline-x7k2p.onExit",
        "Pod",
        "Succeeded",
        True,
    )
    assert (status.phase, status.message, status.progress) == (
        "Failed",
        "child 'ci-pipeline-x7k2p-2602792901' failed",
        "3/4",
    )
    assert sorted(action.pod_name for action in world.started) == [
        "ci-pipeline-x7k2p-notify-3261187210",
        "ci-pipeline-x7k2p-run-2602792901",
        "ci-pipeline-x7k2p-run-2726037394",
        "ci-pipeline-x7k2p-run-608150585",
    ]
    assert all(
        node.template_scope == "local/ci-pipeline-x7k2p"
        for node in status.nodes.values()
        if node.type == "Pod"
    )
