"""Reuse the hand-written landing files of the ingestion tests."""

from tests.ingest.conftest import conn, landing  # noqa: F401
