"""The database schema's history: an Alembic environment shipped inside the package.

``ivr_engine.db_schema`` runs it (``upgrade``, ``current``); ``ivr-engine db ...`` is the
command line (see ``README`` beside this file). ``target.py`` names the models the
migrations must agree with; ``versions/`` holds one file per revision (0001, 0002, ...).
"""

from pathlib import Path

MIGRATIONS_DIR = Path(__file__).resolve().parent
