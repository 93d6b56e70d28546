"""The project's spaCy pipeline, built and loaded from disk as Rasa's SpacyNLP does."""

import pytest
import spacy

from bot.nlu import spacy_pipeline


@pytest.fixture(scope="module")
def nlp(tmp_path_factory):
    path = spacy_pipeline.build(tmp_path_factory.mktemp("spacy") / "support_en")
    return spacy.load(path)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("my account is AC-100042 and inv-20431 is unpaid",
         [("AC-100042", "account_number"), ("inv-20431", "invoice_number")]),
        ("ac 100042 INV20431 jane.doe@example.com",
         [("ac 100042", "account_number"), ("INV20431", "invoice_number"), ("jane.doe@example.com", "email")]),
        ("pay $1,250.50 or 120 dollars or €45 or 200usd",
         [("$1,250.50", "amount"), ("120 dollars", "amount"), ("€45", "amount"), ("200usd", "amount")]),
        ("on 12/15 or 2026-12-15 or the 15th or dec 3rd 2026",
         [("12/15", "date"), ("2026-12-15", "date"), ("the 15th", "date"), ("dec 3rd 2026", "date")]),
        ("zip 94107 and last 4 are 4242", [("94107", "zip_code"), ("4242", "last_four")]),
        ("I will pay next friday or by the end of the month",
         [("next friday", "date"), ("end of the month", "date")]),
        ("in 2 weeks or the 3rd of december", [("in 2 weeks", "date"), ("the 3rd of december", "date")]),
        ("how much do I owe", []),
    ],
)
def test_marks_billing_entities(nlp, text, expected):
    assert [(e.text, e.label_) for e in nlp(text).ents] == expected


def test_iso_dates_stay_one_token_after_reload(nlp):
    assert [t.text for t in nlp("on 2026-12-15")] == ["on", "2026-12-15"]


def test_every_pattern_label_is_a_known_entity():
    assert {p["label"] for p in spacy_pipeline.entity_patterns()} == set(spacy_pipeline.ENTITY_LABELS)
