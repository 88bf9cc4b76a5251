"""The seam between the grader and the student's code.

Checks reach student code only through :class:`autograder.seam.proxy.Impl`, which talks to a
worker process (:mod:`autograder.seam.worker`) over two pipes with the wire codec of
:mod:`autograder.seam.worker.protocol`. How that process is started (a plain subprocess or the
bubblewrap sandbox) is a :class:`autograder.seam.launchers.Launcher`'s business. See
``docs/architecture.md``.
"""
