"""The menu interpreter: walks a call through the nodes of the active menu version."""
