import json

import pandas as pd

from orchestration.ingest.contracts import SOURCES, SOURCES_BY_NAME
from orchestration.sample_world.master import REGIONS

from .conftest import TINY, decode, landing_files, original_files, source_of


def test_every_source_is_delivered(tiny_world):
    delivered = {source_of(p) for p in landing_files(tiny_world)}
    assert delivered == {s.name for s in SOURCES}


def _expected_names(source: str, folder: str) -> set[str]:
    ext = SOURCES_BY_NAME[source].format
    previous = (pd.Timestamp(folder) - pd.Timedelta(days=1)).strftime("%Y-%m-%d")
    parts = [f"{source}_{region}" for region in REGIONS] if source.startswith("pos_") else [source]
    return {f"{part}_{folder}.{ext}" for part in parts} | {
        f"{part}_{previous}_resend.{ext}" for part in parts
    }


def test_file_names_follow_the_layout(tiny_world):
    for path in landing_files(tiny_world):
        assert path.name in _expected_names(source_of(path), path.parent.name), path


def test_headers_and_json_keys_match_the_contract(tiny_world):
    for path in landing_files(tiny_world):
        source = SOURCES_BY_NAME[source_of(path)]
        lines = decode(path).splitlines()
        if source.format == "csv":
            assert lines[0] == ",".join(source.column_names), path
        else:
            for line in lines:
                assert tuple(json.loads(line)) == source.column_names


def test_gbk_files_decode_as_gbk_and_not_as_utf8(tiny_world):
    truth = pd.read_parquet(tiny_world / "truth" / "defects.parquet")
    gbk = truth.loc[truth["defect_kind"] == "gbk_file", "file"]
    assert len(gbk) > 0
    non_ascii = 0
    for rel in gbk:
        raw = (tiny_world / "landing" / rel).read_bytes()
        raw.decode("gbk")
        if any(b > 127 for b in raw):
            non_ascii += 1
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                continue
            raise AssertionError(f"{rel} decodes as UTF-8")
    assert non_ascii > 0
    regions = {p.name.split("_")[-2] for p in original_files(tiny_world, "pos_receipts")}
    assert set(TINY.gbk_regions) <= regions


def test_bom_files_start_with_a_bom_and_others_do_not(tiny_world):
    truth = pd.read_parquet(tiny_world / "truth" / "defects.parquet")
    bom = set(truth.loc[truth["defect_kind"] == "bom_file", "file"])
    for path in original_files(tiny_world):
        rel = str(path.relative_to(tiny_world / "landing"))
        assert path.read_bytes().startswith(b"\xef\xbb\xbf") == (rel in bom), rel


def test_master_data_arrives_on_day_one(tiny_world):
    first = TINY.start_date
    for source in ("stores", "products", "campaigns"):
        assert (tiny_world / "landing" / source / first / f"{source}_{first}.csv").exists()


def test_spend_only_references_campaigns_already_delivered(tiny_world):
    delivered: dict[str, str] = {}
    for path in original_files(tiny_world, "campaigns"):
        for cid in pd.read_csv(path, dtype=str)["campaign_id"]:
            delivered.setdefault(cid, path.parent.name)
    for path in original_files(tiny_world, "marketing_spend"):
        for cid in pd.read_csv(path, dtype=str)["campaign_id"]:
            assert delivered[cid] <= path.parent.name
