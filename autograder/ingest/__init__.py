"""The one way a folder, a zip or a notebook becomes exercise modules to grade.

See ``docs/architecture.md`` for the path of a submission from ``grade`` to ``results.json``.
"""
