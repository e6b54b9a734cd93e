"""The last step of every build: audit the build copy, then publish it for analysts."""

from collections.abc import Sequence

from dagster import AssetKey, AssetsDefinition, MaterializeResult, asset
from dagster_duckdb import DuckDBResource

from orchestration import settings
from orchestration.ingest.loader import reconciliation_mismatches
from orchestration.publish.files import publish, versions

PUBLISHED = AssetKey(["published_warehouse"])


class AuditFailed(RuntimeError):
    pass


def build_publish_asset(upstream: Sequence[AssetKey]) -> AssetsDefinition:
    @asset(
        key=PUBLISHED,
        group_name="publish",
        kinds={"duckdb"},
        deps=list(upstream),
        description="Write-audit-publish: runs only when every upstream asset and blocking "
        "check succeeded; re-audits row reconciliation, then atomically swaps the build copy "
        "in as the warehouse analysts open, keeping earlier versions for `make rollback`.",
    )
    def published_warehouse(warehouse: DuckDBResource) -> MaterializeResult:
        with warehouse.get_connection() as conn:
            mismatches = reconciliation_mismatches(conn)
        if mismatches:
            raise AuditFailed(f"rows do not reconcile, not publishing: {mismatches[:5]}")
        version = publish(
            settings.WAREHOUSE_PATH,
            settings.PUBLISHED_WAREHOUSE_PATH,
            settings.PUBLISHED_VERSIONS_DIR,
            settings.PUBLISHED_VERSIONS_KEPT,
        )
        return MaterializeResult(
            metadata={
                "published_path": str(settings.PUBLISHED_WAREHOUSE_PATH),
                "version": version.name,
                "versions_kept": len(versions(settings.PUBLISHED_VERSIONS_DIR)),
                "size_mb": round(version.stat().st_size / 2**20, 1),
            }
        )

    return published_warehouse
