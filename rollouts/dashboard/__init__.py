"""The web dashboard behind ``kubectl rollouts dashboard``: a page, a JSON API and the actions.

Pure modules decide: `routes` (method and path to what is asked), `auth` (may this request
pass), `views` (Rollouts and their children to JSON), `actions` (an action to the planner's
patches). `server` is the only module doing I/O: it reads through the plugin's `Cluster`, sends
the patches with the plugin's `apply_patches`, and serves the static page shipped in
``static/`` (plain HTML/CSS/JS, nothing fetched from a CDN). The page polls the API once a
second and redraws only what changed; `sharing` lets pages polling the same view within half a
second share one answer, so the server's work follows the views open, not the pages.
"""

from __future__ import annotations

from rollouts.dashboard.server import DashboardSettings, serve

__all__ = ["DashboardSettings", "serve"]
