"""The Rollout kind: spec (replicas, selector, pod template, strategy) and status.

Status is the contract other tools read (Argo's kubectl plugin, Argo CD health checks,
dashboards), so its JSON names are Argo's exactly, including the capitalised ``HPAReplicas``,
``stableRS`` and the string-typed ``observedGeneration``. The pod template stays a plain dict:
its Go JSON encoding feeds the pod-template hash (``rollouts.hashes``), and a model would lose
fields Kubernetes adds in later versions.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from analysis.models import (
    NULLABLE,
    CelRule,
    Condition,
    IntOrString,
    KubeModel,
    LabelSelector,
    NullableTime,
    ObjectMeta,
    OpaqueObject,
    Time,
)
from analysis.models import ResourceMetadata as PodTemplateMetadata
from rollouts.models.common import (
    AntiAffinity,
    RolloutAnalysis,
    RolloutAnalysisBackground,
    RolloutAnalysisRunStatus,
)
from rollouts.models.steps import CanaryStep
from rollouts.models.traffic_routing import RolloutTrafficRouting

__all__ = [
    "ALBStatus",
    "AnalysisRunStrategy",
    "AwsResourceRef",
    "BlueGreenStatus",
    "BlueGreenStrategy",
    "CanaryStatus",
    "CanaryStrategy",
    "ObjectRef",
    "PauseCondition",
    "PingPongSpec",
    "ReplicaProgressThreshold",
    "RollbackWindowSpec",
    "Rollout",
    "RolloutDuration",
    "RolloutSpec",
    "RolloutStatus",
    "RolloutStrategy",
    "StepPluginStatus",
    "TrafficWeights",
    "WeightDestination",
]


class BlueGreenStrategy(KubeModel):
    """Blue-green: a preview stack is brought up, then the active Service is switched to it."""

    active_service: str
    """Service switched to the promoted ReplicaSet."""
    preview_service: str | None = None
    """Service pointed at the new ReplicaSet as soon as it exists."""
    preview_replica_count: int | None = None
    """Replicas of the new ReplicaSet before promotion. Default spec.replicas."""
    auto_promotion_enabled: bool | None = None
    """Switch the active Service without a pause. Default true."""
    auto_promotion_seconds: int | None = None
    """With auto-promotion: switch this many seconds after the pause starts. Default 0."""
    max_unavailable: IntOrString | None = None
    """Pods that may be unavailable during a restart (string = percentage). Default "25"."""
    scale_down_delay_seconds: int | None = None
    """Delay before scaling down the previous active ReplicaSet. Default 30."""
    scale_down_delay_revision_limit: int | None = None
    """Old ReplicaSets kept up while their scale-down delay runs. Default unlimited."""
    pre_promotion_analysis: RolloutAnalysis | None = None
    """AnalysisRun gating the switch."""
    anti_affinity: AntiAffinity | None = None
    """Anti-affinity to the previous version's pods."""
    post_promotion_analysis: RolloutAnalysis | None = None
    """AnalysisRun after the switch, gating the stable mark."""
    preview_metadata: PodTemplateMetadata | None = None
    """Labels and annotations on pods while they are the preview."""
    active_metadata: PodTemplateMetadata | None = None
    """Labels and annotations on pods while they are active."""
    abort_scale_down_delay_seconds: int | None = None
    """On abort, scale the preview down after this many seconds; 0 never. Default 30."""


class PingPongSpec(KubeModel):
    """Two Services that alternate as stable and canary instead of swapping selectors."""

    ping_service: str
    """The ping Service."""
    pong_service: str
    """The pong Service."""


class ReplicaProgressThreshold(KubeModel):
    """How many canary pods must be available for a step to count as scaled."""

    type: Literal["Percent", "Pods"]
    """Percent of the step's desired canary pods, or a pod count."""
    value: int
    """The threshold."""


class CanaryStrategy(KubeModel):
    """Canary: the new version takes traffic step by step."""

    canary_service: str | None = None
    """Service switched to the new ReplicaSet."""
    stable_service: str | None = None
    """Service switched to the stable ReplicaSet."""
    steps: list[CanaryStep] | None = None
    """Steps; none behaves like a rolling update."""
    traffic_routing: RolloutTrafficRouting | None = None
    """Traffic routers; without them weights are approximated by replica counts."""
    max_unavailable: IntOrString | None = None
    """Pods that may be unavailable (string = percentage, rounded down). Default "25"."""
    max_surge: IntOrString | None = None
    """Pods above spec.replicas (string = percentage, rounded up). Default "25"."""
    analysis: RolloutAnalysisBackground | None = None
    """Background AnalysisRun during the steps."""
    anti_affinity: AntiAffinity | None = None
    """Anti-affinity to the previous version's pods."""
    canary_metadata: PodTemplateMetadata | None = None
    """Labels and annotations on pods while they are the canary."""
    stable_metadata: PodTemplateMetadata | None = None
    """Labels and annotations on pods while they are stable."""
    scale_down_delay_seconds: int | None = None
    """Delay before scaling down the previous stable (traffic routing only). Default 30."""
    scale_down_delay_revision_limit: int | None = None
    """Old ReplicaSets kept up while their scale-down delay runs. Default unlimited."""
    abort_scale_down_delay_seconds: int | None = None
    """On abort, scale the canary down after this many seconds; 0 never (traffic routing). Default 30."""
    dynamic_stable_scale: bool | None = None
    """Scale the stable down as the canary weight rises (traffic routing only)."""
    ping_pong: PingPongSpec | None = None
    """Ping-pong Services."""
    min_pods_per_replica_set: int | None = None
    """Lower bound for a non-zero canary or stable count (traffic routing only)."""
    replica_progress_threshold: ReplicaProgressThreshold | None = None
    """Available canary pods needed for a step to count as scaled. Default 100%."""


class RolloutStrategy(KubeModel):
    """The update strategy; exactly one field must be set."""

    blue_green: BlueGreenStrategy | None = None
    """Blue-green strategy."""
    canary: CanaryStrategy | None = None
    """Canary strategy."""


class ObjectRef(KubeModel):
    """A workload that supplies the pod template (and selector)."""

    api_version: str | None = None
    """apps/v1 for a Deployment or ReplicaSet, v1 for a PodTemplate."""
    kind: str | None = None
    """Deployment, ReplicaSet or PodTemplate."""
    name: str | None = None
    """Workload name."""
    scale_down: Literal["never", "onsuccess", "progressively"] | None = None
    """Whether and how the referenced Deployment is scaled down. Default never."""


class RollbackWindowSpec(KubeModel):
    """Fast-tracked rollbacks."""

    revisions: int | None = None
    """Rollbacks to one of the last N revisions skip steps and analysis."""


class AnalysisRunStrategy(KubeModel):
    """How many finished AnalysisRuns and Experiments to keep."""

    successful_run_history_limit: int | None = None
    """Successful ones to keep. Default 5."""
    unsuccessful_run_history_limit: int | None = None
    """Failed, Error and Inconclusive ones to keep. Default 5."""


class RolloutSpec(KubeModel):
    """Desired state of a Rollout."""

    replicas: int | None = None
    """Desired pods. Default 1 (written back by the controller)."""
    selector: Annotated[
        LabelSelector | None,
        NULLABLE,
        CelRule(rule="self == oldSelf", message=".spec.selector is immutable"),
    ] = None
    """Label selector of the pods; must match the template labels. Immutable."""
    template: OpaqueObject | None = None
    """Pod template (core/v1 PodTemplateSpec)."""
    workload_ref: ObjectRef | None = None
    """Workload to take the pod template from instead of template."""
    min_ready_seconds: int | None = None
    """Seconds a pod must be ready to count as available. Default 0."""
    rollback_window: RollbackWindowSpec | None = None
    """Fast-tracked rollbacks."""
    strategy: RolloutStrategy | None = None
    """Update strategy."""
    revision_history_limit: int | None = None
    """Old ReplicaSets to keep. Default 10."""
    paused: bool | None = None
    """Pause the rollout."""
    progress_deadline_seconds: int | None = None
    """Seconds without progress before the rollout is Degraded. Default 600."""
    progress_deadline_abort: bool | None = None
    """Abort the update when the progress deadline is exceeded."""
    restart_at: Time | None = None
    """Restart every pod created before this time."""
    analysis: AnalysisRunStrategy | None = None
    """Retention of finished AnalysisRuns and Experiments."""


class PauseCondition(KubeModel):
    """Why and since when the controller paused the rollout."""

    reason: str
    """CanaryPauseStep, BlueGreenPause, InconclusiveAnalysisRun or InconclusiveExperiment."""
    start_time: NullableTime
    """When the pause started."""


class WeightDestination(KubeModel):
    """Traffic weight applied to one destination."""

    weight: int
    """Percentage of traffic."""
    service_name: str | None = None
    """Service receiving it."""
    pod_template_hash: str | None = None
    """Pod template hash of the pods behind it."""


class TrafficWeights(KubeModel):
    """The weights last applied to the traffic routers."""

    canary: WeightDestination
    """Canary weight."""
    stable: WeightDestination
    """Stable weight."""
    additional: list[WeightDestination] | None = None
    """Experiment destinations."""
    verified: bool | None = None
    """Whether the weights were verified to take effect (ALB)."""


class StepPluginStatus(KubeModel):
    """Bookkeeping of one step plugin operation."""

    index: int
    """Step index."""
    name: str
    """Plugin name."""
    operation: str
    """Run, Terminate or Abort."""
    phase: str | None = None
    """Running, Successful, Failed or Error."""
    message: str | None = None
    """Message from the plugin."""
    started_at: Time | None = None
    """When the operation started."""
    updated_at: Time | None = None
    """Last update."""
    finished_at: Time | None = None
    """When the operation finished."""
    backoff: str | None = None
    """Delay before the next call (Go duration)."""
    executions: int | None = None
    """Calls made."""
    disabled: bool | None = None
    """The plugin is disabled."""
    status: OpaqueObject | None = None
    """Plugin-specific state, stored as is."""


class CanaryStatus(KubeModel):
    """Canary-specific status."""

    current_step_analysis_run_status: RolloutAnalysisRunStatus | None = None
    """The current step's AnalysisRun."""
    current_background_analysis_run_status: RolloutAnalysisRunStatus | None = None
    """The background AnalysisRun."""
    current_experiment: str | None = None
    """The running Experiment."""
    weights: TrafficWeights | None = None
    """Weights last applied to the traffic routers."""
    stable_ping_pong: str | None = None
    """ping or pong: the Service currently fronting stable."""
    step_plugin_statuses: list[StepPluginStatus] | None = None
    """Step plugin bookkeeping."""


class BlueGreenStatus(KubeModel):
    """Blue-green-specific status."""

    preview_selector: str | None = None
    """Hash in the preview Service selector."""
    active_selector: str | None = None
    """Hash in the active Service selector."""
    scale_up_preview_check_point: bool | None = None
    """Latch: the preview may be scaled to full size."""
    pre_promotion_analysis_run_status: RolloutAnalysisRunStatus | None = None
    """The pre-promotion AnalysisRun."""
    post_promotion_analysis_run_status: RolloutAnalysisRunStatus | None = None
    """The post-promotion AnalysisRun."""


class AwsResourceRef(KubeModel):
    """An AWS resource."""

    name: str
    """Name."""
    arn: str
    """ARN."""
    full_name: str | None = None
    """Full name."""


class ALBStatus(KubeModel):
    """Load balancer and target groups found by ALB weight verification."""

    load_balancer: AwsResourceRef | None = None
    """The load balancer."""
    canary_target_group: AwsResourceRef | None = None
    """Canary target group."""
    stable_target_group: AwsResourceRef | None = None
    """Stable target group."""
    ingress: str | None = None
    """The Ingress."""


class RolloutDuration(KubeModel):
    """Timing of the current or last update."""

    rollout_started_at: Time | None = None
    """When the update started."""
    manual_pause_started_at: Time | None = None
    """When the current manual pause started."""
    total_manual_pause_duration_seconds: int | None = None
    """Seconds spent in manual pauses."""
    finished_at: Time | None = None
    """When the update finished."""
    completion_status: str | None = None
    """Promoted, FastPromoted, Aborted, Superseded, RolledBack or FastRolledBack."""


class RolloutStatus(KubeModel):
    """Observed state of a Rollout, written by the controller."""

    abort: bool | None = None
    """Abort the update (set by users or the controller)."""
    pause_conditions: list[PauseCondition] | None = None
    """Why the controller paused the rollout."""
    controller_pause: bool | None = None
    """The controller paused the rollout (pauseConditions cleared by a user means resumed)."""
    aborted_at: Time | None = None
    """When the controller processed the abort."""
    current_pod_hash: str | None = None
    """Pod template hash of the new ReplicaSet."""
    current_step_hash: str | None = None
    """Hash of the canary steps."""
    replicas: int | None = None
    """Pods of all ReplicaSets."""
    updated_replicas: int | None = None
    """Pods of the new ReplicaSet."""
    ready_replicas: int | None = None
    """Ready pods."""
    available_replicas: int | None = None
    """Available pods."""
    current_step_index: int | None = None
    """Current canary step; len(steps) when done."""
    collision_count: int | None = None
    """Hash collisions met when naming the new ReplicaSet."""
    observed_generation: str | None = None
    """metadata.generation observed, as a decimal string."""
    conditions: list[Condition] | None = None
    """Progressing, Available, Paused, Completed, Healthy, InvalidSpec, ReplicaFailure."""
    canary: CanaryStatus | None = None
    """Canary-specific status."""
    blue_green: BlueGreenStatus | None = None
    """Blue-green-specific status."""
    hpa_replicas: int | None = Field(default=None, alias="HPAReplicas")
    """Pods receiving active traffic; read by the HPA through the scale subresource."""
    selector: str | None = None
    """Selector of the pods receiving active traffic, for the scale subresource."""
    stable_rs: str | None = Field(default=None, alias="stableRS")
    """Hash of the last fully promoted ReplicaSet."""
    restarted_at: Time | None = None
    """Last restart that completed."""
    promote_full: bool | None = None
    """Promote fully, skipping remaining steps, analyses and pauses."""
    phase: str | None = None
    """Healthy, Progressing, Paused or Degraded (valid when observedGeneration is current)."""
    message: str | None = None
    """Why the rollout is in its phase."""
    workload_observed_generation: str | None = None
    """Generation of the referenced workload observed."""
    alb: ALBStatus | None = None
    """ALB verification results."""
    albs: list[ALBStatus] | None = None
    """ALB verification results, one per Ingress."""
    duration: RolloutDuration | None = None
    """Timing of the update."""


class Rollout(KubeModel):
    """A Deployment replacement with canary and blue-green update strategies."""

    api_version: str | None = None
    kind: str | None = None
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: RolloutSpec
    status: RolloutStatus | None = None
