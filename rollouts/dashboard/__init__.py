"""The web dashboard behind ``kubectl rollouts dashboard``: a page, a JSON API, live streams, actions.

Pure modules decide: `routes` (method and path to what is asked), `auth` (credentials, CSRF,
cross-site and bind-address rules), `access` (which SubjectAccessReviews a request needs),
`sse` (event framing, row deltas, when to send), `views` (Rollouts and their children to JSON),
`actions` (an action to the planner's patches), `sharing` (one answer per view and instant).
The shell does the I/O: `server` (stdlib HTTP, reads through the plugin's `Cluster`, actions
with the plugin's `apply_patches`), `live` (one shared watch per kind and namespace feeding
every page's event stream), `kubeauth` (TokenReview, SubjectAccessReview, the user's own
connection) and `rawapi` (their raw requests). The page in ``static/`` is plain HTML/CSS/JS,
nothing fetched from a CDN; it holds one ``EventSource`` and redraws only what changed.
"""

from __future__ import annotations

from rollouts.dashboard.server import DashboardSettings, serve

__all__ = ["DashboardSettings", "serve"]
