"""Deletion requests applied to the raw layer before anything is built from it."""

from dagster import AssetKey, Config, MaterializeResult, MetadataValue, asset
from dagster_duckdb import DuckDBResource

from orchestration import settings
from orchestration.identity.keyed_hash import hashing_key
from orchestration.ingest.assets import raw_asset_key
from orchestration.ingest.contracts import SOURCES
from orchestration.privacy.erasure import erase_requested_people

ERASURE = AssetKey(["privacy", "erasure"])


class ErasureConfig(Config):
    """Launchpad option: hash every raw value again (after a change to how values are matched)."""

    full_refresh: bool = False


@asset(
    key=ERASURE,
    group_name="privacy",
    kinds={"python", "duckdb"},
    deps=[raw_asset_key(s.name) for s in SOURCES],
    description="Erases every person named in a deletion request (and anyone of theirs arriving "
    "later) from the raw layer and quarantine; logged without the deleted data. Every staging "
    "model reads raw only after this step. Hashes only the values of files loaded since its "
    "last run.",
)
def erasure(warehouse: DuckDBResource, config: ErasureConfig) -> MaterializeResult:
    key = hashing_key(settings.LANDING_PATH)
    with warehouse.get_connection() as conn:
        report = erase_requested_people(conn, key, full_refresh=config.full_refresh)
    return MaterializeResult(
        metadata={
            "requests_processed": report.requests_processed,
            "rows_erased": MetadataValue.json(report.rows_erased),
            "values_hashed": report.values_hashed,
            "full_scan": report.full_scan,
        }
    )
