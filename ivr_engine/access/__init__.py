"""Who may use the operations API: tokens with roles, and the audit log of what they did."""

from ivr_engine.access.roles import Principal, Role

__all__ = ["Principal", "Role"]
