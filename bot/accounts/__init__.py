"""Accounts: customers, their secrets, cards, invoices, payments and promises to pay.

- ``identifiers``: account and invoice number formats (pure; the NLU uses it, so this
  package imports nothing at import time)
- ``models``: the tables; ``views``: the read models and the money and date arithmetic
- ``queries``: data functions (a session in, read models out; the caller owns the transaction)
- ``verification``: checking a typed secret against the account's hashed ones
"""
