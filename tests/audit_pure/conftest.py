"""Keep Hypothesis's storage out of the repository root.

With a pytest ``norecursedirs`` that replaces the defaults (as this repo's once did), a
``.hypothesis`` directory in the root makes Hypothesis's pytest plugin warn during
collection, which ``filterwarnings = error`` turns into an error on the next run. The
storage goes under the system temp dir instead, unless HYPOTHESIS_STORAGE_DIRECTORY says
otherwise.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hypothesis.configuration import set_hypothesis_home_dir

if not os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
    set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "schoolgate-hypothesis")
