"""SQLFoundry: verified text-to-SQL data, training and evaluation for any database.

Every stage executes SQL through one read-only, bounded Executor (``sqlfoundry.db``).
"""

__version__ = "0.1.0"
