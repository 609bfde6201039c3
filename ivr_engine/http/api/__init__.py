"""The operations API, ``/api/v1``: agents, supervisors, operations staff and reports.

A request goes: :mod:`.endpoint` (route table) -> :mod:`.guard` (token, role, the agent
acting on itself) -> body and query validated with pydantic -> the handler in one of the
feature modules (:mod:`.agents`, :mod:`.supervisor`, the operations staff's
:mod:`.menus_api`, :mod:`.blacklist_api` and :mod:`.holidays_api`, :mod:`.reports`,
:mod:`.audit`), called with its module's tools -> the audit log for anything that changes
state. :mod:`.build` gives each module's table its tools, once; :mod:`.openapi` builds
the OpenAPI document from the same tables, so the document and the routes cannot
disagree.
"""
