"""Research collectors: one module per source family behind the Collector ABC (see base.py)."""
