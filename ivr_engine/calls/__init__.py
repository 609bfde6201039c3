"""A call's life in the engine: the runner that journals it and the flows it walks."""
