import datetime as dt

from rasa.shared.nlu.training_data.message import Message

from bot.nlu.entity_normalizer import EntityNormalizer, normalize_value

DAY = dt.date(2026, 11, 22)


def test_normalize_values():
    assert normalize_value("date", "next friday", DAY) == "2026-11-27"
    assert normalize_value("amount", "$1,250.50", DAY) == "1250.50 USD"
    assert normalize_value("account_number", "ac 100042", DAY) == "AC-100042"
    assert normalize_value("invoice_number", "inv20431", DAY) == "INV-20431"
    assert normalize_value("zip_code", "94107", DAY) == "94107"
    assert normalize_value("email", " Jane@Example.COM", DAY) == "jane@example.com"
    assert normalize_value("date", "13/45", DAY) is None


def test_component_rewrites_values_keeps_raw_and_drops_unreadable(monkeypatch):
    monkeypatch.setenv("BOT_TODAY", DAY.isoformat())
    from bot import config

    config.get_settings.cache_clear()
    message = Message(data={"text": "pay friday or 13/45", "entities": [
        {"entity": "date", "value": "friday", "start": 4, "end": 10},
        {"entity": "date", "value": "13/45", "start": 14, "end": 19},
    ]})
    EntityNormalizer().process([message])
    config.get_settings.cache_clear()
    assert message.get("entities") == [
        {"entity": "date", "value": "2026-11-27", "raw": "friday", "start": 4, "end": 10}
    ]
