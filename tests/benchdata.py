"""Where the real public benchmark data lives for tests (``../shared/benchmarks`` beside the
checkout, or ``$SQLFOUNDRY_BENCHMARKS``). Tests that use it skip, naming the folder, when it is
absent; the data is never copied into the repository."""

from __future__ import annotations

import os
from pathlib import Path

BENCHMARKS = Path(
    os.environ.get("SQLFOUNDRY_BENCHMARKS", Path(__file__).resolve().parents[2] / "shared" / "benchmarks")
)
