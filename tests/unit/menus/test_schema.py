"""The JSON Schema shipped for editors is the one the model generates."""

from __future__ import annotations

import json
import subprocess
import sys

from ivr_engine.menus.schema import SCHEMA_FILE, menu_json_schema, schema_text


def test_shipped_schema_is_up_to_date() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text(), (
        "regenerate: python -m ivr_engine.menus.schema > ivr_engine/menus/menu.schema.json"
    )


def test_schema_header_and_shape() -> None:
    schema = menu_json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == "urn:ivr-engine:menu-file:1"
    assert schema["title"] == "IVR menu file"
    assert schema["description"]
    assert set(schema["properties"]) == {"version", "title", "entries", "defaults", "nodes"}
    assert schema["additionalProperties"] is False
    assert {"MenuNode", "HangupNode", "Retry", "FileDefaults"} <= set(schema["$defs"])
    json.loads(json.dumps(schema))


def test_module_prints_the_schema() -> None:
    printed = subprocess.run(
        [sys.executable, "-m", "ivr_engine.menus.schema"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert printed == schema_text()
