"""The daily series puts each fact in the local day it happened on, across the changes to and from
summer time, without converting every fact's time."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot.analytics import report
from bot.analytics.facts import Facts
from bot.analytics.facts_types import HandoffFact, PromiseFact

NEW_YORK = ZoneInfo("America/New_York")


def handoff(moment: dt.datetime) -> HandoffFact:
    return HandoffFact(1, "web", "anger", moment, None, None, None)


def test_each_fact_goes_to_its_local_day_around_daylight_saving_changes():
    for first, last in ((dt.date(2026, 3, 6), dt.date(2026, 3, 10)), (dt.date(2026, 10, 30), dt.date(2026, 11, 3))):
        period = report.Period(first, last, None, NEW_YORK)
        moments = []
        moment = period.start
        while moment < period.end:  # every 20 minutes, and either side of each local midnight
            moments.append(moment)
            moment += dt.timedelta(minutes=20)
        moments += [report.local_midnight(day, NEW_YORK) - dt.timedelta(microseconds=1) for day in period.days()[1:]]
        facts = Facts(period.start, period.end, [], [], [handoff(m) for m in moments], [], [], [],
                      [PromiseFact(last, "kept")], [])
        days = report.split_by_day(facts, period)
        assert list(days) == period.days()
        for day, part in days.items():
            assert all(h.requested_at.astimezone(NEW_YORK).date() == day for h in part.handoffs), day
            assert (part.start, part.end) == (report.local_midnight(day, NEW_YORK),
                                              report.local_midnight(day + dt.timedelta(days=1), NEW_YORK))
        assert sum(len(part.handoffs) for part in days.values()) == len(moments)
        assert days[last].promises == [PromiseFact(last, "kept")]
