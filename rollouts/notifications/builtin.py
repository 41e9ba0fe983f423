"""The triggers and templates available without configuring them.

Argo ships nine ``on-…`` triggers and their templates in ``notifications-install.yaml``; users who
apply it subscribe with annotations only. We provide the same trigger names (each sending the
template of the same name without ``on-``; ``on-scaling-replica-set`` sends
``scaling-replicaset`` as upstream) with templates written for us: a one-line ``message`` and a
Slack attachment with the strategy and container images. A ConfigMap key of the same name wins.
"""

from __future__ import annotations

from typing import Final

from rollouts.notifications.messages import NotificationTemplate
from rollouts.notifications.triggers import Condition

__all__ = ["BUILTIN_TEMPLATES", "BUILTIN_TRIGGERS"]

# trigger name → (template name, message wording after the Rollout's name, Slack colour)
CATALOG: Final = {
    "on-analysis-run-error": ("analysis-run-error", "'s analysis run is in error state.", "#ECB22E"),
    "on-analysis-run-failed": ("analysis-run-failed", "'s analysis run failed.", "#E01E5A"),
    "on-analysis-run-running": ("analysis-run-running", "'s analysis run is running.", "#18be52"),
    "on-rollout-aborted": ("rollout-aborted", " has been aborted.", "#E01E5A"),
    "on-rollout-completed": ("rollout-completed", " has been completed.", "#18be52"),
    "on-rollout-paused": ("rollout-paused", " has been paused.", "#18be52"),
    "on-rollout-step-completed": (
        "rollout-step-completed",
        " step number {{add .rollout.status.currentStepIndex 1}}/"
        "{{len .rollout.spec.strategy.canary.steps}} has been completed.",
        "#18be52",
    ),
    "on-rollout-updated": ("rollout-updated", " has been updated.", "#18be52"),
    "on-scaling-replica-set": (
        "scaling-replicaset",
        "'s replicaset is scaled to {{.rollout.spec.replicas}}.",
        "#18be52",
    ),
}

# A JSON list of one attachment: strategy, then one field per container image (none when the
# Rollout has no inline template, so a workloadRef Rollout still gets its message).
ATTACHMENT: Final = (
    '[{"title": {{toJson .rollout.metadata.name}}, "color": "COLOUR", "fields": ['
    '{"title": "Strategy", "value": '
    '"{{with .rollout.spec.strategy}}{{if .blueGreen}}BlueGreen{{else}}Canary{{end}}{{end}}",'
    ' "short": true}'
    "{{with .rollout.spec.template}}{{range .spec.containers}}, "
    '{"title": {{toJson .name}}, "value": {{toJson .image}}, "short": true}{{end}}{{end}}]}]'
)


def _template(name: str, wording: str, colour: str) -> NotificationTemplate:
    return NotificationTemplate.parse(
        name,
        {
            "message": "Rollout {{.rollout.metadata.name}}" + wording,
            "slack": {"attachments": ATTACHMENT.replace("COLOUR", colour)},
        },
    )


BUILTIN_TRIGGERS: Final[dict[str, tuple[Condition, ...] | str]] = {
    trigger: (Condition((template,)),) for trigger, (template, _, _) in CATALOG.items()
}
BUILTIN_TEMPLATES: Final[dict[str, NotificationTemplate | str]] = {
    template: _template(template, wording, colour) for template, wording, colour in CATALOG.values()
}
