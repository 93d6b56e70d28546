"""When people are at work, and when they are next available. Pure functions."""

from __future__ import annotations

import datetime as dt

from bot.config import Settings


def is_open(now: dt.datetime, settings: Settings) -> bool:
    local = now.astimezone(settings.tz)
    opens, closes = settings.business_hours
    return local.isoweekday() in settings.business_days and opens <= local.time() < closes


def next_opening(now: dt.datetime, settings: Settings) -> dt.datetime:
    """The next moment the team is available (``now`` itself when open)."""
    if is_open(now, settings):
        return now
    local = now.astimezone(settings.tz)
    opens, _ = settings.business_hours
    for days in range(0, 8):
        day = (local + dt.timedelta(days=days)).date()
        candidate = dt.datetime.combine(day, opens, tzinfo=settings.tz)
        if day.isoweekday() in settings.business_days and candidate > local:
            return candidate
    raise ValueError("no business day configured")  # config validation prevents this


def describe_hours(settings: Settings) -> str:
    """'Monday to Friday, 9:00 to 17:00 (America/New_York)'."""
    names = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    days = settings.business_days
    if list(days) == list(range(days[0], days[-1] + 1)) and len(days) > 1:
        day_text = f"{names[days[0] - 1]} to {names[days[-1] - 1]}"
    else:
        day_text = ", ".join(names[d - 1] for d in days)
    opens, closes = settings.business_hours
    return f"{day_text}, {opens:%H:%M} to {closes:%H:%M} ({settings.timezone})"


def describe_opening(moment: dt.datetime, now: dt.datetime, settings: Settings) -> str:
    """'today at 09:00', 'tomorrow at 09:00' or 'Monday at 09:00'."""
    local_now = now.astimezone(settings.tz).date()
    day = moment.date()
    if day == local_now:
        when = "today"
    elif day == local_now + dt.timedelta(days=1):
        when = "tomorrow"
    else:
        when = f"{moment:%A}"
    return f"{when} at {moment:%H:%M}"
