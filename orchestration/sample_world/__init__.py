"""A simulated omnichannel brand: people first, then every channel's export rendered from them.

`generate_world(config, out)` writes `<out>/landing/` (what the pipeline loads) and
`<out>/truth/` (what really happened, for tests and benchmarks).
"""

from orchestration.sample_world.config import WorldConfig
from orchestration.sample_world.world import LandingNotEmpty, generate_world

__all__ = ["LandingNotEmpty", "WorldConfig", "generate_world"]
