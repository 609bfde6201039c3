"""``python -m ivr_engine`` is the ``ivr-engine`` command."""

from ivr_engine.cli.main import main

main()
