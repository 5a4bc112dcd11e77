"""SQL analysis over sqlglot: parsing, normalisation, skeletons, skills, and result comparison.

Each concern is its own module (``compare`` holds the result-comparison modes); import from there.
"""
