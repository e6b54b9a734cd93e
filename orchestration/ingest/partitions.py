"""Daily export partitions shared by every raw asset, the sensor and the jobs."""

from dagster import DailyPartitionsDefinition

from orchestration import settings

export_day_partitions = DailyPartitionsDefinition(
    start_date=settings.PARTITION_START_DATE, timezone=settings.LOCAL_TIMEZONE
)
