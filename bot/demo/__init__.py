"""Demo data for a fresh start: Northwind Energy's customers and their history (``seed``)."""
