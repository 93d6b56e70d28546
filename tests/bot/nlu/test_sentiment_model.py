from pathlib import Path

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
