"""`make rollback`: publish the previous warehouse version again."""

import sys

from orchestration import settings
from orchestration.publish.files import rollback


def main() -> int:
    try:
        restored = rollback(
            settings.PUBLISHED_WAREHOUSE_PATH,
            settings.PUBLISHED_VERSIONS_DIR,
            settings.WAREHOUSE_PATH,
        )
    except RuntimeError as err:
        print(f"Rollback refused: {err}", file=sys.stderr)
        return 1
    print(f"Published {settings.PUBLISHED_WAREHOUSE_PATH} is now {restored.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
