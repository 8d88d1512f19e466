"""Measurement (IO-free): machine-checkable expectations on scenes, their reports, and load-test statistics."""
