"""Test support that several test folders share.

It lives in a package rather than in `conftest.py` because every folder's `conftest` module is
imported under the same name, so `from conftest import …` finds whichever was imported last.
"""
