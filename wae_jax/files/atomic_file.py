"""Files replaced whole: readers see the old contents or the new, never a part.

Results, caches and reports are rewritten while other processes read them (a second study
job on the workdir, a notebook) and a kill can come at any moment. The new contents go to
a temporary file beside the target, named after the writing process so that two writers
never share one, and are renamed over the target when complete (rename is atomic on POSIX);
when two processes replace one file, the last rename wins.
"""

import contextlib
import os
from typing import IO, Iterator


@contextlib.contextmanager
def replaced(path: str | os.PathLike, mode: str = "w") -> Iterator[IO]:
    """An open file (`mode` "w" or "wb") whose contents replace `path` when the block ends
    without an exception; on an exception `path` is left as it was. Its folder must exist."""
    if mode not in ("w", "wb"):
        raise ValueError(f"mode: 'w' or 'wb', got {mode!r}")
    path = os.fspath(path)
    temporary = f"{path}.{os.getpid()}.tmp"
    try:
        with open(temporary, mode) as file:
            yield file
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
