"""The graded checks, one module per exercise (named like the exercise module).

Checks reach student code only through the ``impl`` fixture; expected values are
computed here, in the grader process, by hand or from the reference (``ref``).
"""
