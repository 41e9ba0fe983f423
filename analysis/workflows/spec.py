"""Pydantic models of the Argo Workflows spec subset our engine runs (reference §1 to §3, §7).

The models accept Argo Workflow, WorkflowTemplate and ClusterWorkflowTemplate manifests as users
write them for Argo (``argoproj.io/v1alpha1``) and keep every field they do not declare
(``KubeModel`` has ``extra="allow"``), so a manifest round-trips unchanged and ``unknown_fields``
can report typos in strict validation. Shapes are checked here (``container.args`` must be a list,
a step needs a ``name``); rules that span several fields or templates (unique names, cycles,
references, one template type) live in ``validation``, which reports them with Argo's messages.

Values stay raw, as in the API: durations and IntOrString numbers are strings or ints that the
scheduler interprets. Parameter values written as YAML numbers or booleans are kept as their text,
as Argo's ``AnyString`` does.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from analysis.models.base import IntOrString, KubeModel, ObjectMeta

__all__ = [
    "API_VERSION",
    "LEAF_TYPES",
    "TEMPLATE_TYPES",
    "Arguments",
    "Artifact",
    "Backoff",
    "ClusterWorkflowTemplate",
    "Container",
    "ContinueOn",
    "DAGTask",
    "DAGTemplate",
    "Inputs",
    "LifecycleHook",
    "Outputs",
    "Parameter",
    "ResourceTemplate",
    "RetryStrategy",
    "ScriptTemplate",
    "Sequence",
    "SuspendTemplate",
    "Template",
    "TemplateRef",
    "ValueFrom",
    "Workflow",
    "WorkflowSpec",
    "WorkflowStep",
    "WorkflowTemplate",
    "WorkflowTemplateRef",
]

API_VERSION = "argoproj.io/v1alpha1"

TEMPLATE_TYPES = (
    "container",
    "script",
    "resource",
    "suspend",
    "steps",
    "dag",
    "http",
    "containerSet",
    "plugin",
    "data",
)
"""Every template type Argo knows, by JSON name; exactly one must be set."""

LEAF_TYPES = frozenset(
    {"container", "script", "resource", "suspend", "http", "containerSet", "plugin", "data"}
)


def _any_string(value: Any) -> Any:
    """Argo's ``AnyString``: YAML numbers and booleans are kept as their JSON text."""
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    return value


AnyString = Annotated[str, BeforeValidator(_any_string)]


class ValueFrom(KubeModel):
    """Where a parameter's value comes from (reference §3.1)."""

    path: str | None = None
    """Outputs of pod templates: file read after the main container exits."""
    json_path: str | None = None
    """Outputs of resource templates: kubectl jsonpath on the object."""
    jq_filter: str | None = None
    """Outputs of resource templates: jq filter on the object."""
    parameter: str | None = None
    """Outputs of steps/dag templates: a ``{{steps...}}``/``{{tasks...}}`` reference."""
    expression: str | None = None
    """Outputs of steps/dag templates: an expr-lang expression."""
    supplied: dict[str, Any] | None = None
    """Outputs of suspend templates: supplied at resume time."""
    config_map_key_ref: dict[str, Any] | None = None
    """Inputs and workflow arguments: a ConfigMap key."""
    event: str | None = None
    """Workflow arguments of event-triggered submissions (accepted, not used)."""
    default: AnyString | None = None
    """Fallback when the source fails."""


class Parameter(KubeModel):
    """A parameter of ``inputs``, ``outputs`` or ``arguments``."""

    name: str
    value: AnyString | None = None
    """Literal value; on an input it is a default that caller arguments override."""
    default: AnyString | None = None
    """Input default when the caller passes nothing."""
    enum: list[AnyString] | None = None
    """Allowed values."""
    description: str | None = None
    value_from: ValueFrom | None = None
    global_name: str | None = None
    """Outputs only: also publish as ``workflow.outputs.parameters.<globalName>``."""


class Artifact(KubeModel):
    """An artifact of ``inputs``, ``outputs`` or ``arguments`` (reference §3.4).

    Locations other than ``raw`` and our ``local`` repository key (``s3``, ``git``, ``http``...)
    are kept as extra fields; executors say clearly when they cannot fetch them.
    """

    name: str
    path: str | None = None
    mode: int | None = None
    from_: str | None = Field(default=None, alias="from")
    from_expression: str | None = None
    archive: dict[str, Any] | None = None
    optional: bool | None = None
    global_name: str | None = None
    sub_path: str | None = None
    raw: dict[str, Any] | None = None
    """Inline content: ``{data: "..."}``."""
    local: dict[str, Any] | None = None
    """Our local repository location: ``{key: "<workflow>/<pod>/<name>.tgz"}``."""


class Inputs(KubeModel):
    parameters: list[Parameter] | None = None
    artifacts: list[Artifact] | None = None


class Outputs(KubeModel):
    parameters: list[Parameter] | None = None
    artifacts: list[Artifact] | None = None
    result: str | None = None
    """Filled at run time: stdout of a script (or a referenced container)."""
    exit_code: str | None = None
    """Filled at run time: exit code of the main container, as text."""


class Arguments(KubeModel):
    parameters: list[Parameter] | None = None
    artifacts: list[Artifact] | None = None


class Container(KubeModel):
    """A Kubernetes Container; fields we do not interpret are kept as extra."""

    name: str | None = None
    image: str | None = None
    command: list[str] | None = None
    args: list[str] | None = None
    env: list[dict[str, Any]] | None = None
    working_dir: str | None = None


class ScriptTemplate(Container):
    """A container plus the ``source`` written to a file appended to ``command``."""

    source: str


class ResourceTemplate(KubeModel):
    action: str
    manifest: str | None = None
    manifest_from: dict[str, Any] | None = None
    merge_strategy: str | None = None
    set_owner_reference: bool | None = None
    success_condition: str | None = None
    failure_condition: str | None = None
    flags: list[str] | None = None


class SuspendTemplate(KubeModel):
    duration: IntOrString | None = None
    """Seconds (``20``/``"20"``) or a Go duration (``"2m"``); absent: until resumed."""


class TemplateRef(KubeModel):
    name: str
    template: str
    cluster_scope: bool | None = None


class WorkflowTemplateRef(KubeModel):
    name: str
    cluster_scope: bool | None = None


class ContinueOn(KubeModel):
    failed: bool | None = None
    error: bool | None = None


class Sequence(KubeModel):
    count: IntOrString | None = None
    start: IntOrString | None = None
    end: IntOrString | None = None
    format: str | None = None


class LifecycleHook(KubeModel):
    template: str | None = None
    template_ref: TemplateRef | None = None
    arguments: Arguments | None = None
    expression: str | None = None


class WorkflowStep(KubeModel):
    """A step of a steps template (also the base of a DAG task): one invocation of a template."""

    name: str
    template: str | None = None
    template_ref: TemplateRef | None = None
    inline: Template | None = None
    arguments: Arguments | None = None
    when: str | None = None
    with_items: list[Any] | None = None
    with_param: str | None = None
    with_sequence: Sequence | None = None
    continue_on: ContinueOn | None = None
    hooks: dict[str, LifecycleHook] | None = None
    on_exit: str | None = None
    """Deprecated form of ``hooks.exit.template``."""

    @property
    def exit_hook(self) -> LifecycleHook | None:
        """This invocation's exit handler, from ``hooks.exit`` or the deprecated ``onExit``."""
        if self.hooks and "exit" in self.hooks:
            return self.hooks["exit"]
        return LifecycleHook(template=self.on_exit) if self.on_exit else None


class DAGTask(WorkflowStep):
    dependencies: list[str] | None = None
    depends: str | None = None


class DAGTemplate(KubeModel):
    tasks: list[DAGTask]
    target: str | None = None
    fail_fast: bool | None = None


class Backoff(KubeModel):
    duration: IntOrString | None = None
    factor: IntOrString | None = None
    max_duration: IntOrString | None = None
    cap: IntOrString | None = None


class RetryStrategy(KubeModel):
    limit: IntOrString | None = None
    retry_policy: str | None = None
    backoff: Backoff | None = None
    expression: str | None = None
    affinity: dict[str, Any] | None = None


class Template(KubeModel):
    """One template: a name, its interface (inputs/outputs) and exactly one body type."""

    name: str | None = None
    inputs: Inputs | None = None
    outputs: Outputs | None = None
    container: Container | None = None
    script: ScriptTemplate | None = None
    resource: ResourceTemplate | None = None
    suspend: SuspendTemplate | None = None
    steps: list[list[WorkflowStep]] | None = None
    dag: DAGTemplate | None = None
    http: dict[str, Any] | None = None
    container_set: dict[str, Any] | None = None
    plugin: dict[str, Any] | None = None
    data: dict[str, Any] | None = None
    active_deadline_seconds: IntOrString | None = None
    timeout: str | None = None
    retry_strategy: RetryStrategy | None = None
    parallelism: int | None = None
    fail_fast: bool | None = None
    daemon: bool | None = None
    metadata: dict[str, Any] | None = None
    memoize: dict[str, Any] | None = None
    synchronization: dict[str, Any] | None = None
    annotations: dict[str, str] | None = None
    volumes: list[dict[str, Any]] | None = None
    service_account_name: str | None = None

    @property
    def types(self) -> list[str]:
        """The body types this template sets (exactly one when valid)."""
        return [name for name in TEMPLATE_TYPES if getattr(self, _snake(name)) is not None]

    @property
    def type(self) -> str:
        types = self.types
        return types[0] if types else ""

    @property
    def is_leaf(self) -> bool:
        return self.type in LEAF_TYPES


def _snake(name: str) -> str:
    return "container_set" if name == "containerSet" else name


class WorkflowSpec(KubeModel):
    """The body of a Workflow, WorkflowTemplate, ClusterWorkflowTemplate or CronWorkflow run."""

    entrypoint: str | None = None
    arguments: Arguments | None = None
    templates: list[Template] | None = None
    on_exit: str | None = None
    hooks: dict[str, LifecycleHook] | None = None
    active_deadline_seconds: int | None = None
    parallelism: int | None = None
    retry_strategy: RetryStrategy | None = None
    workflow_template_ref: WorkflowTemplateRef | None = None
    service_account_name: str | None = None
    suspend: bool | None = None
    shutdown: str | None = None
    priority: int | None = None
    ttl_strategy: dict[str, Any] | None = None
    pod_gc: dict[str, Any] | None = None
    volumes: list[dict[str, Any]] | None = None

    @property
    def exit_hook(self) -> LifecycleHook | None:
        """The workflow exit handler, from ``hooks.exit`` or ``onExit``."""
        if self.hooks and "exit" in self.hooks:
            return self.hooks["exit"]
        return LifecycleHook(template=self.on_exit) if self.on_exit else None

    def template(self, name: str) -> Template | None:
        return next((template for template in self.templates or [] if template.name == name), None)


class Workflow(KubeModel):
    """An Argo ``Workflow`` manifest (its status, if any, is kept opaque)."""

    api_version: str | None = API_VERSION
    kind: str | None = "Workflow"
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: WorkflowSpec
    status: dict[str, Any] | None = None


class WorkflowTemplate(KubeModel):
    """A namespaced library of templates (no status)."""

    api_version: str | None = API_VERSION
    kind: str | None = "WorkflowTemplate"
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: WorkflowSpec


class ClusterWorkflowTemplate(WorkflowTemplate):
    """A cluster-scoped library of templates."""

    kind: str | None = "ClusterWorkflowTemplate"


WorkflowStep.model_rebuild()
DAGTask.model_rebuild()
Template.model_rebuild()
