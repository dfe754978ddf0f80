"""The reading's Python reference: what the page computes, from a drawing or a picture to the numbers it shows.

Each module is the twin of one browser file in web/, and tests prove the two agree (tests/test_engine.py).
"""
