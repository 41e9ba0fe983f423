"""Notifications: Argo-compatible triggers, templates and subscriptions for Rollout Events.

Every Event the controller records may notify someone (reference §10.3). The decisions are pure
and tested without I/O — parsing the ConfigMap/Secret (`config`), naming and evaluating triggers
(`triggers`), reading subscriptions (`subscriptions`), rendering Go templates (`gotemplate`,
`messages`), planning (`planning`) and building HTTP requests with their retry schedule
(`delivery`). `notifier` is the only module doing I/O: a queue and a task, off the reconcile path.
"""

from rollouts.notifications.config import CONFIG_MAP_NAME, SECRET_NAME, NotificationConfig, parse_config
from rollouts.notifications.metrics import NotificationMetrics
from rollouts.notifications.notifier import ApiReader, Notifier, NotifierSettings
from rollouts.notifications.planning import plan_notifications
from rollouts.notifications.triggers import trigger_name

__all__ = [
    "CONFIG_MAP_NAME",
    "SECRET_NAME",
    "ApiReader",
    "NotificationConfig",
    "NotificationMetrics",
    "Notifier",
    "NotifierSettings",
    "parse_config",
    "plan_notifications",
    "trigger_name",
]
