import datetime as dt

import pytest

from bot.nlu.dates import date_in_words, parse_date

SUNDAY = dt.date(2026, 11, 22)
WEDNESDAY = dt.date(2026, 11, 18)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("today", "2026-11-22"),
        ("tomorrow", "2026-11-23"),
        ("the day after tomorrow", "2026-11-24"),
        ("friday", "2026-11-27"),
        ("this friday", "2026-11-27"),
        ("Next Friday", "2026-11-27"),  # next week's Friday, seen from a Sunday
        ("sunday", "2026-11-22"),
        ("the 15th", "2026-12-15"),  # the 15th has passed this month
        ("on the 1st", "2026-12-01"),
        ("the 22nd", "2026-11-22"),
        ("end of the month", "2026-11-30"),
        ("end of next month", "2026-12-31"),
        ("next week", "2026-11-23"),
        ("in 2 weeks", "2026-12-06"),
        ("in two weeks", "2026-12-06"),
        ("in 10 days", "2026-12-02"),
        ("in a week", "2026-11-29"),
        ("december 3", "2026-12-03"),
        ("Dec 3rd", "2026-12-03"),
        ("3 december", "2026-12-03"),
        ("the 3rd of december", "2026-12-03"),
        ("the 20th of next month", "2026-12-20"),
        ("dec 3rd 2027", "2027-12-03"),
        ("2026-12-15", "2026-12-15"),
        ("12/15", "2026-12-15"),
        ("1/9", "2027-01-09"),  # nearest January 9th is next year's
        ("nov 3", "2026-11-03"),  # nearest November 3rd is in the past
    ],
)
def test_reads_the_date_customers_mean(text, expected):
    assert parse_date(text, SUNDAY) == dt.date.fromisoformat(expected)


def test_next_weekday_from_midweek_is_in_the_following_week():
    assert parse_date("next friday", WEDNESDAY) == dt.date(2026, 11, 27)
    assert parse_date("friday", WEDNESDAY) == dt.date(2026, 11, 20)


def test_the_31st_skips_months_without_one():
    assert parse_date("the 31st", dt.date(2026, 11, 5)) == dt.date(2026, 12, 31)


@pytest.mark.parametrize("text", ["", "blah", "13/45", "2026-02-30", "in many days", "the 45th"])
def test_non_dates_are_none(text):
    assert parse_date(text, SUNDAY) is None


def test_date_in_words_adds_the_year_only_when_it_differs():
    assert date_in_words(dt.date(2026, 12, 4), SUNDAY) == "Friday, December 4"
    assert date_in_words(dt.date(2027, 1, 9), SUNDAY) == "Saturday, January 9, 2027"
