"""The JSON Schema of a menu file, for editors and other tools.

The schema ships in the package as ``ivr_engine/menus/menu.schema.json``. Editors that use
yaml-language-server (VS Code with the Red Hat YAML extension, Neovim, ...) then complete
keys and mark errors as you type when a menu file starts with:

    # yaml-language-server: $schema=../../ivr_engine/menus/menu.schema.json

(the path is relative to the menu file). The editor only checks the shape of one file;
``ivr-engine check`` also checks targets, reachability, prompts and the rest.

After changing the model, regenerate the shipped file (a test fails while it is stale):

    python -m ivr_engine.menus.schema > ivr_engine/menus/menu.schema.json
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ivr_engine.menus.document import MenuFile

SCHEMA_FILE = Path(__file__).with_name("menu.schema.json")
SCHEMA_ID = "urn:ivr-engine:menu-file:1"


def menu_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one menu file."""
    generated = MenuFile.model_json_schema()
    generated.pop("title", None)
    generated.pop("description", None)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "IVR menu file",
        "description": "One YAML file of config/menus/: entries (dialled number -> first"
        " node), defaults (language, menu-wide keys, max_depth) and nodes (id -> node).",
        **generated,
    }


def schema_text() -> str:
    """The schema as it is written to ``menu.schema.json``."""
    return json.dumps(menu_json_schema(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    print(schema_text(), end="")
