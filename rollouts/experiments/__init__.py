"""The Experiment controller: a pure planner (`plan`) and the kopf shell that runs it (`shell`).

Reference §8. The planner modules — `inputs`, `validation`, `templates`, `analyses`, `status`,
`plan` — do no I/O and import neither kopf nor the Kubernetes client; `shell` and `registry`
read the cluster, call `plan_experiment`, and send what it decided.
"""

from rollouts.experiments.inputs import ExperimentObject, Observed, RunView, ServiceRef
from rollouts.experiments.plan import ExperimentPlan, plan_experiment

__all__ = ["ExperimentObject", "ExperimentPlan", "Observed", "RunView", "ServiceRef", "plan_experiment"]
