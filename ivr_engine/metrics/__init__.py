"""What the engine tells Prometheus: the metrics and their registry
(:mod:`ivr_engine.metrics.engine`), filled through the small hook protocols each part
declares (``ivr_engine.agi.metrics``, ``acd.metrics``, ...), served on ``GET /metrics``
(:mod:`ivr_engine.http.metrics`). Nothing below this package imports it.
"""
