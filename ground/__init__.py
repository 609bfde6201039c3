"""The ground floor: helpers every other package of the project may use.

Nothing here imports anything else of the project (``make lint`` enforces it): database
engines and column types, time, tasks, paths, the safe YAML reader, atomic file writing,
the event loop monitor. A helper moves here as soon as a second package needs it.
"""
