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


# Tests of one world run on one xdist worker (`make test` runs two workers): a session fixture
# is built once per worker, so spreading a world's tests would build it twice.
WORLD_FIXTURES = ("small_world", "default_world")


# tryfirst: xdist's own hook, which reads the xdist_group marks into the test ids the scheduler
# groups by, is registered later and so would run first and miss the marks added here
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        worlds = [name for name in WORLD_FIXTURES if name in getattr(item, "fixturenames", ())]
        if len(worlds) > 1:
            raise pytest.UsageError(f"{item.nodeid} uses two worlds; each worker builds one")
        if worlds:
            item.add_marker(pytest.mark.xdist_group(worlds[0]))
