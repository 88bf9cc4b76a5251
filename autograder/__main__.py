import sys

from autograder.commands import main

sys.exit(main())
