"""Turns what customers write about dates into real dates.

Pure functions, no I/O: ``parse_date("next friday", today)``. The bot always
confirms a parsed date back in words, so a customer can correct a reading.

Readings:
- "today", "tonight", "tomorrow", "the day after tomorrow"
- "friday", "this friday": the next Friday on or after today
- "next friday": the Friday of next week (Monday-to-Sunday weeks)
- "the 15th", "on the 1st": the next such day on or after today
- "the 15th of next month", "the 3rd of december"
- "end of the month", "end of next month", "next week" (its Monday),
  "in 3 days", "in two weeks", "in a week"
- "december 3", "dec 3rd 2026", "3 december", "12/15" (month/day, US order),
  "2026-12-15": without a year, the nearest such date to today
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from typing import Optional, Tuple

WEEKDAYS = {
    "monday": 0,
    "mon": 0,
    "tuesday": 1,
    "tue": 1,
    "tues": 1,
    "wednesday": 2,
    "wed": 2,
    "thursday": 3,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "friday": 4,
    "fri": 4,
    "saturday": 5,
    "sat": 5,
    "sunday": 6,
    "sun": 6,
}
MONTHS = {
    "january": 1,
    "jan": 1,
    "february": 2,
    "feb": 2,
    "march": 3,
    "mar": 3,
    "april": 4,
    "apr": 4,
    "may": 5,
    "june": 6,
    "jun": 6,
    "july": 7,
    "jul": 7,
    "august": 8,
    "aug": 8,
    "september": 9,
    "sep": 9,
    "sept": 9,
    "october": 10,
    "oct": 10,
    "november": 11,
    "nov": 11,
    "december": 12,
    "dec": 12,
}
NUMBER_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fourteen": 14,
    "thirty": 30,
}

_WEEKDAY = "|".join(sorted(WEEKDAYS, key=len, reverse=True))
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"


def _last_day(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _add_months(year: int, month: int, months: int) -> Tuple[int, int]:
    index = year * 12 + month - 1 + months
    return index // 12, index % 12 + 1


def _safe_date(year: int, month: int, day: int) -> Optional[dt.date]:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _nearest(month: int, day: int, today: dt.date) -> Optional[dt.date]:
    candidates = [d for d in (_safe_date(today.year + k, month, day) for k in (-1, 0, 1)) if d]
    return min(candidates, key=lambda d: abs((d - today).days)) if candidates else None


def _next_day_of_month(day: int, today: dt.date) -> Optional[dt.date]:
    for months in range(0, 13):
        year, month = _add_months(today.year, today.month, months)
        candidate = _safe_date(year, month, day)
        if candidate and candidate >= today:
            return candidate
    return None


def _number(word: str) -> Optional[int]:
    if word.isdigit():
        return int(word)
    return NUMBER_WORDS.get(word)


def parse_date(text: str, today: dt.date) -> Optional[dt.date]:
    """The date ``text`` means, seen from ``today``; None when it is not a date."""
    t = re.sub(r"[,.]", " ", (text or "").lower())
    t = re.sub(r"\s+", " ", t).strip()
    t = re.sub(
        r"^(on|by|before|until|till|the end of|at the end of)\s+", lambda m: "end of " if "end" in m.group(1) else "", t
    )

    if t in ("today", "tonight", "this evening"):
        return today
    if t == "tomorrow":
        return today + dt.timedelta(days=1)
    if t in ("the day after tomorrow", "day after tomorrow"):
        return today + dt.timedelta(days=2)

    m = re.fullmatch(rf"(?:(this|next|coming|this coming)\s+)?({_WEEKDAY})", t)
    if m:
        target = WEEKDAYS[m.group(2)]
        ahead = (target - today.weekday()) % 7
        if m.group(1) == "next":
            next_monday = today + dt.timedelta(days=7 - today.weekday())
            return next_monday + dt.timedelta(days=target)
        return today + dt.timedelta(days=ahead)

    m = re.fullmatch(r"end of (?:the |this )?month|end of month|month end", t)
    if m:
        return _last_day(today.year, today.month)
    if re.fullmatch(r"end of next month", t):
        return _last_day(*_add_months(today.year, today.month, 1))
    if t == "next week":
        return today + dt.timedelta(days=7 - today.weekday())
    if t == "next month":
        return dt.date(*_add_months(today.year, today.month, 1), 1)

    m = re.fullmatch(r"in (\w+) (day|days|week|weeks)", t)
    if m:
        n = _number(m.group(1))
        if n is None:
            return None
        return today + dt.timedelta(days=n * (7 if m.group(2).startswith("week") else 1))

    m = re.fullmatch(rf"(?:the )?{_DAY}(?: of)? (next month|this month|{_MONTH})", t)
    if m:
        day, what = int(m.group(1)), m.group(2)
        if what == "next month":
            return _safe_date(*_add_months(today.year, today.month, 1), day)
        if what == "this month":
            return _safe_date(today.year, today.month, day)
        return _nearest(MONTHS[what], day, today)

    m = re.fullmatch(r"the (\d{1,2})(?:st|nd|rd|th)?|(\d{1,2})(?:st|nd|rd|th)", t)
    if m:
        return _next_day_of_month(int(m.group(1) or m.group(2)), today)

    m = re.fullmatch(rf"({_MONTH}) (?:the )?{_DAY}(?: (\d{{4}}))?", t)
    if m:
        month, day = MONTHS[m.group(1)], int(m.group(2))
        if m.group(3):
            return _safe_date(int(m.group(3)), month, day)
        return _nearest(month, day, today)

    m = re.fullmatch(rf"{_DAY} ({_MONTH})(?: (\d{{4}}))?", t)
    if m:
        day, month = int(m.group(1)), MONTHS[m.group(2)]
        if m.group(3):
            return _safe_date(int(m.group(3)), month, day)
        return _nearest(month, day, today)

    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", t)
    if m:
        return _safe_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))

    m = re.fullmatch(r"(\d{1,2})/(\d{1,2})(?:/(\d{2}|\d{4}))?", t)
    if m:
        month, day = int(m.group(1)), int(m.group(2))
        if m.group(3):
            year = int(m.group(3))
            return _safe_date(year + 2000 if year < 100 else year, month, day)
        return _nearest(month, day, today)
    return None


def date_in_words(date: dt.date, today: Optional[dt.date] = None) -> str:
    """'Friday, December 4' (the year is added when it is not the current one)."""
    words = f"{date:%A}, {date:%B} {date.day}"
    if today is not None and date.year != today.year:
        words += f", {date.year}"
    return words
