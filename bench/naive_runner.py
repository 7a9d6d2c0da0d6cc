"""Reference launcher 2: the runner anyone would write in ten minutes.

``python bench/naive_runner.py JOBS OUT_DIR LIST_FILE`` runs every script named in LIST_FILE (one
path a line) with this interpreter, JOBS at a time (ThreadPoolExecutor + subprocess.run with
captured output), and writes each script's stdout then stderr to ``OUT_DIR/<name>.out``. Exits 1
if any script failed. Run as a file (not ``-m``) so that it imports nothing from the bench.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor


def main() -> int:
    jobs, out_dir, list_file = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    with open(list_file, encoding="utf-8") as f:
        scripts = [line.rstrip("\n") for line in f if line.strip()]

    def run_one(script: str) -> int:
        proc = subprocess.run([sys.executable, script], capture_output=True, check=False)
        name = os.path.basename(script) + ".out"
        with open(os.path.join(out_dir, name), "wb") as out:
            out.write(proc.stdout)
            out.write(proc.stderr)
        return proc.returncode

    with ThreadPoolExecutor(jobs) as pool:
        codes = list(pool.map(run_one, scripts))
    return 0 if all(code == 0 for code in codes) else 1


if __name__ == "__main__":
    sys.exit(main())
