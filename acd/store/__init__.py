"""The ACD's persistent model: tables (:mod:`.tables`) and the config sync (:mod:`.sync`)."""
