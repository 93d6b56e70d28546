"""The WordPiece tokenizer gives the same ids as the model's own tokenizer.

The reference ids in data/minilm_reference.json come from
sentence-transformers 6.2 / tokenizers 0.23 on the same vocabulary.
"""

import json
from pathlib import Path

import pytest

from bot.nlu.encoder.fetch import DEFAULT_DIRECTORY
from bot.nlu.encoder.wordpiece import WordPiece

REFERENCE = json.loads((Path(__file__).parent / "data" / "minilm_reference.json").read_text())


@pytest.fixture(scope="module")
def tokenizer() -> WordPiece:
    return WordPiece.from_vocab_file(DEFAULT_DIRECTORY / "vocab.txt")


@pytest.mark.parametrize("sentence", REFERENCE["sentences"], ids=lambda s: s["text"][:30] or "<empty>")
def test_ids_match_the_models_tokenizer(tokenizer, sentence):
    ids = [tokenizer.cls_id, *tokenizer.ids(sentence["text"]), tokenizer.sep_id]
    assert ids == sentence["input_ids"]


def test_a_word_longer_than_100_characters_is_unknown(tokenizer):
    assert tokenizer.ids("a" * 101) == [tokenizer.unk_id]


def test_a_word_with_no_pieces_is_unknown_not_dropped(tokenizer):
    # U+1F600 is not in the vocabulary: one [UNK], like BertTokenizer
    assert tokenizer.ids("😀") == [tokenizer.unk_id]


def test_control_characters_are_dropped(tokenizer):
    assert tokenizer.ids("pay\x00\x07ment\u200b") == tokenizer.ids("payment")
