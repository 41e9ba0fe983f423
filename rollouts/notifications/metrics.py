"""Argo's notification metrics (§10.1) on the controller's registry.

``notification_send_success``/``notification_send_error`` count deliveries by the Rollout and
the Event that caused them (labels namespace, name, type, reason); ``notification_send``
observes how long a delivery took, retries included. prometheus_client exposes the counters
with the usual ``_total`` suffix.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

__all__ = ["NotificationMetrics"]


class NotificationMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        labels = ["namespace", "name", "type", "reason"]
        self.success = Counter(
            "notification_send_success", "Notifications sent successfully", labels, registry=registry
        )
        self.error = Counter(
            "notification_send_error", "Notifications that failed to send", labels, registry=registry
        )
        self.duration = Histogram(
            "notification_send",
            "Notification send performance",
            ["namespace", "name"],
            buckets=(0.01, 0.15, 0.25, 0.5, 1.0, 5.0, 15.0),
            registry=registry,
        )
