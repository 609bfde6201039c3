"""The live wallboard: a page a supervisor keeps open on a big screen, fed over a WebSocket.

:mod:`.figures` are the values shown, :mod:`.snapshot` puts them together (the queues'
and agents' figures are the ACD's, :mod:`acd.figures`; :mod:`.reads` reads the rest),
:mod:`.data` takes snapshots on a database engine of its own, :mod:`.hub` refreshes them
about once a second while a page is open and pushes them to every page, :mod:`.routes`
serves the page, its WebSocket and the same figures as JSON, :mod:`.service` puts them
together for the engine. What the figures mean: ``docs/wallboard.md``.
"""
