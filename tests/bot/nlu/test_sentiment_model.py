import json

import numpy as np
import pytest

from bot.config import PROJECT_ROOT
from bot.nlu.sentiment_model import LABELS, SentimentModel, read_labelled


@pytest.fixture(scope="module")
def model():
    rows = read_labelled(PROJECT_ROOT / "data" / "sentiment" / "support.tsv")
    return SentimentModel.train([t for _, t in rows], [l for l, _ in rows])


def test_labels_customer_messages(model):
    negative, neutral, positive = model.predict([
        "this is the third time I'm asking and nobody has fixed it",
        "could you send me a copy of my invoice please",
        "thank you so much, that sorted it",
    ])
    assert negative.label == "negative"
    assert neutral.label == "neutral"
    assert positive.label == "positive"
    assert set(negative.scores) == set(LABELS)
    assert abs(sum(negative.scores.values()) - 1.0) < 1e-6
    assert negative.score == negative.scores["negative"]


def test_save_and_load_predict_the_same(model, tmp_path):
    model.save(tmp_path)
    loaded = SentimentModel.load(tmp_path)
    texts = ["WORST SERVICE EVER", "ok", "great, thanks"]
    assert [p.as_dict() for p in loaded.predict(texts)] == [p.as_dict() for p in model.predict(texts)]
    # Nothing pickled: every file is JSON or a plain array.
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".json", ".npy", ".npy", ".npy", ".npy"]


def test_rejects_unknown_labels(tmp_path):
    path = tmp_path / "bad.tsv"
    path.write_text("label\ttext\nfurious\tthis is bad\n")
    with pytest.raises(ValueError, match="unknown label 'furious'"):
        read_labelled(path)


# The dense block, with a fake encoder: a fixed random vector per text, so the
# vectors carry no sentiment unless a test puts it there.

def fake_encode(texts, dimension=8):
    return np.stack([np.random.default_rng(sum(map(ord, t))).normal(size=dimension) for t in texts])


@pytest.fixture(scope="module")
def dense_model():
    rows = read_labelled(PROJECT_ROOT / "data" / "sentiment" / "support.tsv")
    texts = [t for _, t in rows]
    return SentimentModel.train(texts, [l for l, _ in rows], dense=fake_encode(texts), c=1.0)


def test_the_dense_block_carries_what_the_words_cannot():
    # Every text is the same, so TF-IDF cannot separate them: only the vectors can.
    directions = {"negative": [-1.0, 0.0], "neutral": [0.0, 1.0], "positive": [1.0, 0.0]}
    labels = [label for label in LABELS for _ in range(20)]
    rng = np.random.default_rng(0)
    dense = np.array([directions[label] for label in labels]) + rng.normal(scale=0.1, size=(len(labels), 2))
    model = SentimentModel.train(["about my bill"] * len(labels), labels, dense=dense)
    assert model.dense_dimension == 2
    predictions = model.predict(["about my bill"] * 3, dense=np.array([[-1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]))
    assert [p.label for p in predictions] == ["negative", "neutral", "positive"]


def test_dense_model_saves_and_loads_as_plain_arrays(dense_model, tmp_path):
    dense_model.save(tmp_path)
    loaded = SentimentModel.load(tmp_path)
    assert loaded.dense_dimension == 8
    texts = ["WORST SERVICE EVER", "ok", "great, thanks"]
    assert [p.as_dict() for p in loaded.predict(texts, fake_encode(texts))] == [
        p.as_dict() for p in dense_model.predict(texts, fake_encode(texts))]
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".json", ".npy", ".npy", ".npy", ".npy"]


def test_dense_vectors_must_match_how_the_model_was_trained(model, dense_model):
    with pytest.raises(ValueError, match="trained with 8-value sentence-encoder vectors"):
        dense_model.predict(["hello"])
    with pytest.raises(ValueError, match=r"shape \(1, 8\)"):
        dense_model.predict(["hello"], dense=fake_encode(["hello"], dimension=4))
    with pytest.raises(ValueError, match="trained without sentence-encoder vectors"):
        model.predict(["hello"], dense=fake_encode(["hello"]))
    with pytest.raises(ValueError, match="one row per text"):
        SentimentModel.train(["a", "b"], ["negative", "positive"], dense=fake_encode(["a"]))


def test_models_saved_before_the_dense_block_still_load(model, tmp_path):
    model.save(tmp_path)
    meta = json.loads((tmp_path / "sentiment.json").read_text())
    del meta["dense_dimension"], meta["dense_scale"]
    (tmp_path / "sentiment.json").write_text(json.dumps(meta))
    loaded = SentimentModel.load(tmp_path)
    assert loaded.dense_dimension == 0
    assert loaded.predict(["WORST SERVICE EVER"])[0].as_dict() == model.predict(["WORST SERVICE EVER"])[0].as_dict()


def test_probabilities_are_scikit_learns_on_the_stacked_features():
    import scipy.sparse as sp

    rows = read_labelled(PROJECT_ROOT / "data" / "sentiment" / "support.tsv")
    texts, labels = [t for _, t in rows], [l for l, _ in rows]
    dense = np.random.default_rng(0).normal(size=(len(texts), 8))
    model = SentimentModel.train(texts, labels, dense=dense, dense_scale=0.5)
    probe, probe_dense = texts[:5] + ["never seen before!!!"], np.vstack([dense[:5], np.ones((1, 8))])
    stacked = sp.hstack([model._word.transform(probe), model._char.transform(probe),
                         sp.csr_matrix(probe_dense * 0.5)]).tocsr()
    expected = model._classifier.predict_proba(stacked)
    assert model._probabilities(probe, probe_dense) == pytest.approx(expected, abs=1e-9)
