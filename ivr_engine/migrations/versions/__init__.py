"""One file per revision, ``NNNN_<slug>.py``; Alembic skips this ``__init__``."""
