"""Canary steps (``spec.strategy.canary.steps[]``): exactly one kind per step.

Fields are declared in Go's JSON order (reference §0.5) for readability next to the step hash;
the hash itself is computed from the raw manifest by ``rollouts.hashes``, not from these models.
"""

from __future__ import annotations

from typing import Annotated

from analysis.models import NULLABLE, DryRun, IntOrString, KubeModel, LabelSelector, OpaqueObject
from analysis.models import ResourceMetadata as PodTemplateMetadata
from rollouts.models.common import AnalysisRunArgument, RolloutAnalysis, TemplateService

__all__ = [
    "CanaryStep",
    "HeaderRoutingMatch",
    "PluginStep",
    "RolloutExperimentStep",
    "RolloutExperimentStepAnalysisTemplateRef",
    "RolloutExperimentTemplate",
    "RolloutPause",
    "RouteMatch",
    "SetCanaryScale",
    "SetHeaderRoute",
    "SetMirrorRoute",
    "StringMatch",
]


class RolloutPause(KubeModel):
    """Pause the rollout: for a duration, or until promoted when no duration is given."""

    duration: IntOrString | None = None
    """Seconds as an integer or a numeric string, or a Go duration such as 30s or 1h."""


class RolloutExperimentTemplate(KubeModel):
    """A ReplicaSet the experiment runs, from the canary or the stable pod template."""

    name: str
    """Template name."""
    spec_ref: str
    """canary or stable: which ReplicaSet's pod template to use."""
    replicas: int | None = None
    """Replicas. Default 1."""
    metadata: PodTemplateMetadata | None = None
    """Labels and annotations for the template's pods."""
    selector: LabelSelector | None = None
    """Selector override. Default the Rollout's selector."""
    weight: int | None = None
    """Traffic percentage for these pods (traffic routing with ALB, SMI, Istio or plugins)."""
    service: TemplateService | None = None
    """Create a Service for these pods."""


class RolloutExperimentStepAnalysisTemplateRef(KubeModel):
    """An AnalysisRun the experiment starts once its templates are available."""

    name: str
    """Name of this analysis within the experiment."""
    template_name: str
    """AnalysisTemplate name."""
    cluster_scope: bool | None = None
    """Use a ClusterAnalysisTemplate."""
    args: list[AnalysisRunArgument] | None = None
    """Arguments for the run."""
    required_for_completion: bool | None = None
    """The experiment completes when all such analyses are Successful."""


class RolloutExperimentStep(KubeModel):
    """Create an Experiment; the step completes when it is Successful."""

    templates: list[RolloutExperimentTemplate]
    """ReplicaSets the experiment runs."""
    duration: str | None = None
    """How long the experiment runs (Go duration). Default until analyses finish."""
    analyses: list[RolloutExperimentStepAnalysisTemplateRef] | None = None
    """AnalysisRuns started by the experiment."""
    dry_run: list[DryRun] | None = None
    """Metrics run in dry-run mode."""
    analysis_run_metadata: PodTemplateMetadata | None = None
    """Labels and annotations added to the experiment's AnalysisRuns."""
    scale_down_delay_seconds: int | None = None
    """Delay before the experiment's ReplicaSets are scaled down. Default 30."""


class SetCanaryScale(KubeModel):
    """Scale the canary independently of its traffic weight (traffic routing only)."""

    weight: int | None = None
    """Canary replicas as a percentage of spec.replicas."""
    replicas: int | None = None
    """Canary replicas as a count."""
    match_traffic_weight: bool | None = None
    """Cancel an earlier override: scale with the traffic weight again."""


class StringMatch(KubeModel):
    """A string match; exactly one field."""

    exact: str | None = None
    """Exact match."""
    prefix: str | None = None
    """Prefix match."""
    regex: str | None = None
    """Regular expression match."""


class HeaderRoutingMatch(KubeModel):
    """A request header condition."""

    header_name: str
    """Header name."""
    header_value: Annotated[StringMatch | None, NULLABLE] = None
    """How the header value must match (Go clients send null when unset)."""


class SetHeaderRoute(KubeModel):
    """Send requests matching headers to the canary; without match the route is removed."""

    name: str | None = None
    """Route name; must be listed in trafficRouting.managedRoutes."""
    match: list[HeaderRoutingMatch] | None = None
    """Header conditions."""


class RouteMatch(KubeModel):
    """Which requests are mirrored."""

    method: StringMatch | None = None
    """HTTP method."""
    path: StringMatch | None = None
    """URL path."""
    headers: dict[str, StringMatch] | None = None
    """Header name → value match."""


class SetMirrorRoute(KubeModel):
    """Mirror matching requests to the canary; without match the route is removed."""

    name: str
    """Route name; must be listed in trafficRouting.managedRoutes."""
    match: list[RouteMatch] | None = None
    """Request conditions."""
    percentage: int | None = None
    """Percentage of matching requests mirrored. Default 100."""


class PluginStep(KubeModel):
    """Run a step plugin registered in the controller configuration."""

    name: str
    """Registered plugin name."""
    config: OpaqueObject | None = None
    """Plugin configuration, passed as is."""


class CanaryStep(KubeModel):
    """One canary step; exactly one field must be set."""

    set_weight: int | None = None
    """Canary traffic percentage (replica ratio without traffic routing)."""
    pause: RolloutPause | None = None
    """Pause the rollout."""
    experiment: RolloutExperimentStep | None = None
    """Run an Experiment."""
    analysis: RolloutAnalysis | None = None
    """Run an AnalysisRun; the step completes when it is Successful."""
    set_canary_scale: SetCanaryScale | None = None
    """Override the canary's replica count."""
    set_header_route: SetHeaderRoute | None = None
    """Add or remove a header route to the canary."""
    set_mirror_route: SetMirrorRoute | None = None
    """Add or remove a mirror route to the canary."""
    plugin: PluginStep | None = None
    """Run a step plugin."""
