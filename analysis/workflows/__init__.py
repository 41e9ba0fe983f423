"""An Argo-style workflow engine: Argo Workflow manifests run by our own scheduler and executors.

Layers, from pure to impure:

* ``spec`` (models), ``validation`` (Argo's rules and messages), ``names`` (node IDs, pod names),
  ``substitution`` (``{{...}}``), ``conditions`` (``when``, ``depends``), ``loops`` (fan-out and
  aggregation) and ``scheduler`` (spec + node statuses + now → new statuses and actions) are
  pure and unit-tested without I/O;
* ``executors`` run leaf steps (local subprocesses with a private filesystem view per step, or
  one Pod per step on Kubernetes) and report what happened;
* ``engine`` is the loop: ask the scheduler, hand its actions to an executor, feed reports back,
  store the status.

State lives in our own ``WorkflowRun`` kind (``workflows.rollouts.dev``), never in an
``argoproj.io`` Workflow, so a real Argo Workflows installation can run beside us.
"""
