"""CLI: python -m orchestration.sample_world --customers 20000 --days 180 --seed 7 --out data"""

from __future__ import annotations

import argparse
import json
import sys

from orchestration.sample_world import LandingNotEmpty, WorldConfig, generate_world


def main(argv: list[str] | None = None) -> int:
    defaults = WorldConfig()
    parser = argparse.ArgumentParser(
        prog="python -m orchestration.sample_world", description=__doc__
    )
    parser.add_argument("--customers", type=int, default=defaults.customers)
    parser.add_argument("--days", type=int, default=defaults.days)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--start-date", default=defaults.start_date)
    parser.add_argument("--chunk-size", type=int, default=defaults.chunk_size)
    parser.add_argument("--out", default="data")
    parser.add_argument("--force", action="store_true", help="wipe landing and truth first")
    args = parser.parse_args(argv)
    config = WorldConfig(
        customers=args.customers,
        days=args.days,
        seed=args.seed,
        start_date=args.start_date,
        chunk_size=args.chunk_size,
    )
    try:
        summary = generate_world(config, args.out, force=args.force)
    except LandingNotEmpty as err:
        print(err, file=sys.stderr)
        return 2
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
