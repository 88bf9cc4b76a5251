"""The error of ingestion: a submission that cannot become exercise modules."""


class SubmissionError(Exception):
    """The submission cannot be turned into a folder to grade (one clear line)."""
