"""Grading: the rubric, the pytest plugin that runs the checks, results, reports and runners.

See ``docs/architecture.md`` for the path of a submission from ``grade`` to ``results.json``.
"""
