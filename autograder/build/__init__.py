"""Generators: everything students and instructors receive is built from ``solutions/``."""
