"""Derivative tests: a reusable checker (gradcheck), a corpus of user functions, and their tests."""
