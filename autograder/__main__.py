import sys

from autograder.commands import main

if __name__ == "__main__":  # grade-batch's forked gradings import this module as __mp_main__
    sys.exit(main())
