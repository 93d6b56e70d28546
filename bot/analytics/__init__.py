"""Support and dunning analytics: the numbers a support lead reads.

- :mod:`bot.analytics.metrics`: every figure's definition, pure functions over facts
  (containment, handoffs, queue wait, first response, resolution, abandoned, CSAT,
  first-contact resolution, reminders and money recovered by stage, promises, card retries).
- :mod:`bot.analytics.facts`: the SQL that loads a period's raw facts (records in
  :mod:`bot.analytics.facts_types`).
- :mod:`bot.analytics.report`: the summary of a period and its daily series, JSON-ready.

The hub serves them at ``/api/reports/*`` (:mod:`bot.hub.reports_api`) and on the console's
Reports page; the README's "Reports" section states each definition in words.
"""
