"""Session-wide worlds: a small one for most tests, the default one for accuracy assertions."""

from __future__ import annotations

import pytest

from orchestration.sample_world import WorldConfig
from tests.worlds import World, build_world

SMALL_WORLD = WorldConfig(customers=2_000, days=60, seed=11)


@pytest.fixture(scope="session")
def small_world(tmp_path_factory) -> World:
    """Built as two nights: all but the last day, then the last day incrementally."""
    return build_world(tmp_path_factory.mktemp("small_world"), SMALL_WORLD, nightly=True)


@pytest.fixture(scope="session")
def default_world(tmp_path_factory) -> World:
    return build_world(tmp_path_factory.mktemp("default_world"), WorldConfig())
