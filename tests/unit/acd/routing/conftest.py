"""Every scenario test runs against the specification and against the indexes."""

from __future__ import annotations

import pytest

from tests.unit.acd.routing.support import Indexed, Router, Spec


@pytest.fixture(params=["spec", "index"])
def router(request: pytest.FixtureRequest) -> Router:
    return Spec() if request.param == "spec" else Indexed()
