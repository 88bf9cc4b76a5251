"""Code that runs next to the student's code, inside the worker process.

Nothing here may import ``solutions/``, ``autograder.checks`` or the rubric: the
student's process must never be able to reach a secret. The worker is started as
a script (``python -I -B autograder/seam/worker/main.py``), so these modules import
each other as top-level modules and must not import the ``autograder`` package.
"""
