"""KPIs of the book: time to value, plans on time, packets, reviews; pure formulas in domain.py."""
