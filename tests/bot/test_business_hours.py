import datetime as dt

from bot.business_hours import describe_hours, describe_opening, is_open, next_opening
from bot.config import load_settings

SETTINGS = load_settings({"BOT_TIMEZONE": "America/New_York"})  # Mon-Fri 09:00-17:00
NY = SETTINGS.tz


def at(year, month, day, hour, minute=0):
    return dt.datetime(year, month, day, hour, minute, tzinfo=NY)


def test_open_during_weekday_hours():
    assert is_open(at(2026, 11, 18, 10), SETTINGS)  # Wednesday
    assert not is_open(at(2026, 11, 18, 17), SETTINGS)
    assert not is_open(at(2026, 11, 21, 10), SETTINGS)  # Saturday


def test_next_opening():
    assert next_opening(at(2026, 11, 18, 20), SETTINGS) == at(2026, 11, 19, 9)
    assert next_opening(at(2026, 11, 21, 10), SETTINGS) == at(2026, 11, 23, 9)  # Saturday -> Monday
    assert next_opening(at(2026, 11, 18, 7), SETTINGS) == at(2026, 11, 18, 9)
    now = at(2026, 11, 18, 10)
    assert next_opening(now, SETTINGS) == now


def test_descriptions():
    assert describe_hours(SETTINGS) == "Monday to Friday, 09:00 to 17:00 (America/New_York)"
    now = at(2026, 11, 20, 18)  # Friday evening
    assert describe_opening(next_opening(now, SETTINGS), now, SETTINGS) == "Monday at 09:00"
    evening = at(2026, 11, 18, 20)
    assert describe_opening(next_opening(evening, SETTINGS), evening, SETTINGS) == "tomorrow at 09:00"
