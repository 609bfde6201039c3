"""The operations API, ``/api/v1``: agents, supervisors, operations staff and reports.

A request goes: :mod:`.endpoint` (route table) -> :mod:`.guard` (token, role, the agent
acting on itself) -> body and query validated with pydantic -> the handler in one of the
feature modules (:mod:`.agents`, :mod:`.supervisor`, :mod:`.operations`, :mod:`.reports`)
-> the audit log for anything that changes state. :mod:`.openapi` builds the OpenAPI
document from the same table, so the document and the routes cannot disagree.
"""
