"""BERT's uncased WordPiece tokenizer, as all-MiniLM-L6-v2 was trained with it.

Written out here instead of adding the `tokenizers` package (which would
install cleanly too): it is short, needs no compiled wheel, and tokenizes word
by word, as the encoder needs to give each Rasa token its own vector.
The steps follow BertTokenizer: clean, lowercase, strip accents, split
punctuation and CJK characters, then greedy longest-match word pieces.
tests/bot/nlu/test_wordpiece.py checks the ids against the model's own
tokenizer.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Dict, List

MAX_CHARS_PER_WORD = 100


def _is_punctuation(char: str) -> bool:
    code = ord(char)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def _is_cjk(code: int) -> bool:
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x20000 <= code <= 0x2A6DF
        or 0x2A700 <= code <= 0x2B73F
        or 0x2B740 <= code <= 0x2B81F
        or 0x2B820 <= code <= 0x2CEAF
        or 0xF900 <= code <= 0xFAFF
        or 0x2F800 <= code <= 0x2FA1F
    )


def _clean(text: str) -> str:
    """Drops control characters, makes all whitespace a space, spaces CJK out."""
    out = []
    for char in text:
        code = ord(char)
        if code == 0 or code == 0xFFFD:
            continue
        category = unicodedata.category(char)
        if char in " \t\n\r" or category == "Zs":
            out.append(" ")
        elif category in ("Cc", "Cf"):
            continue
        elif _is_cjk(code):
            out.append(f" {char} ")
        else:
            out.append(char)
    return "".join(out)


def _strip_accents(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", word) if unicodedata.category(c) != "Mn")


def _split_punctuation(word: str) -> List[str]:
    pieces: List[str] = []
    current = ""
    for char in word:
        if _is_punctuation(char):
            if current:
                pieces.append(current)
                current = ""
            pieces.append(char)
        else:
            current += char
    if current:
        pieces.append(current)
    return pieces


class WordPiece:
    def __init__(self, vocab: Dict[str, int]) -> None:
        self.vocab = vocab
        self.unk_id = vocab["[UNK]"]
        self.cls_id = vocab["[CLS]"]
        self.sep_id = vocab["[SEP]"]
        self.pad_id = vocab["[PAD]"]

    @classmethod
    def from_vocab_file(cls, path: Path) -> "WordPiece":
        lines = path.read_text(encoding="utf-8").splitlines()
        return cls({token: index for index, token in enumerate(lines)})

    def ids(self, text: str) -> List[int]:
        """Word-piece ids of ``text``, without [CLS] and [SEP]."""
        ids: List[int] = []
        for word in _clean(text).lower().split():
            for piece in _split_punctuation(_strip_accents(word)):
                ids.extend(self._word_ids(piece))
        return ids

    @lru_cache(maxsize=65536)  # noqa: B019 - one tokenizer per process, kept for its lifetime
    def _word_ids(self, word: str) -> tuple:
        if len(word) > MAX_CHARS_PER_WORD:
            return (self.unk_id,)
        ids = []
        start = 0
        while start < len(word):
            end = len(word)
            found = None
            while start < end:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.vocab:
                    found = self.vocab[piece]
                    break
                end -= 1
            if found is None:
                return (self.unk_id,)
            ids.append(found)
            start = end
        return tuple(ids)
