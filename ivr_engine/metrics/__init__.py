"""What the engine tells Prometheus: the hooks the engine's parts report to
(:mod:`ivr_engine.metrics.hooks`), the metrics and their registry
(:mod:`ivr_engine.metrics.engine`), served on ``GET /metrics`` (:mod:`ivr_engine.http.metrics`).
"""
