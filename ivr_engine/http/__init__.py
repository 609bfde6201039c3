"""The engine's HTTP side: health check now, the operations API later."""
