"""rl4llm autograder: see docs/architecture.md for the layout (commands, ingest, grading, seam, checks, build)."""

from pathlib import Path

__version__ = "0.1.0"

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent
