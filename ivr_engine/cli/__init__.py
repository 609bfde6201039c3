"""The engine's command line, ``ivr-engine``: one module per command group."""
