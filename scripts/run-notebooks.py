#!/usr/bin/python3
"""Execute moelab's notebooks headlessly with the tslab kernel and fail on any cell error.

Called by scripts/run-notebooks.sh, which sets PATH (tslab), NODE_OPTIONS (tsx, so the kernel can
load src/*.ts) and the generated `moelab` type declarations first; run it through that script.

Every notebook runs with the project root as the kernel's working directory (STACK.md "Notebooks":
tslab compiles with rootDir = the kernel's cwd). tslab reports a TypeScript error as a failed
execution, so a type error in a cell fails the run just like an exception does.

    /usr/bin/python3 scripts/run-notebooks.py [NOTEBOOK ...] [--out DIR] [--timeout S] [--check-clean]

Exit status: 0 when every notebook ran cleanly, 1 when any failed, 2 on bad arguments.
The committed notebooks carry no outputs; --out writes the executed copies elsewhere.
"""
import argparse
import glob
import os
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KERNEL = "tslab"


def dirty_cells(nb):
    """Indices of code cells that carry outputs or an execution count (stale results)."""
    return [
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count") is not None)
    ]


def error_text(cell):
    """What the kernel said about a failed cell: stderr streams (tslab's type errors) and errors."""
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream" and out.get("name") == "stderr":
            parts.append(out.get("text", ""))
        elif out.get("output_type") == "error":
            parts.append("%s: %s" % (out.get("ename", ""), out.get("evalue", "")))
            parts.extend(out.get("traceback", [])[-5:])
    return "\n".join(p.rstrip() for p in parts if p.strip()) or "(the kernel reported an error without a message)"


def run_one(path, out_dir, timeout):
    nb = nbformat.read(path, as_version=4)
    name = nb.metadata.get("kernelspec", {}).get("name")
    if name != KERNEL:
        print("FAIL %s: kernelspec is %r; moelab notebooks use the %r kernel (metadata.kernelspec.name)" % (path, name, KERNEL))
        return False
    started = time.time()
    client = NotebookClient(
        nb,
        kernel_name=KERNEL,
        timeout=timeout,
        # The kernel starts in this folder: the project root, whatever the notebook's own folder.
        resources={"metadata": {"path": ROOT}},
        allow_errors=False,
    )
    ok = True
    try:
        client.execute()
    except CellExecutionError:
        ok = False
        failed = next(
            (i for i, c in enumerate(nb.cells) if c.cell_type == "code" and any(o.get("output_type") == "error" for o in c.get("outputs", []))),
            None,
        )
        # tslab writes type errors to stderr and answers with status "error"; find the last run cell.
        if failed is None:
            executed = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.get("execution_count") is not None]
            failed = executed[-1] if executed else None
        if failed is None:
            print("FAIL %s: a cell failed (no output says which)" % path)
        else:
            cell = nb.cells[failed]
            print("FAIL %s, cell %d:\n--- source ---\n%s\n--- error ---\n%s" % (path, failed, cell.source, error_text(cell)))
    except CellTimeoutError as e:
        ok = False
        print("FAIL %s: a cell ran longer than %d s (--timeout): %s" % (path, timeout, str(e).splitlines()[0]))
    except DeadKernelError as e:
        ok = False
        print("FAIL %s: the tslab kernel died: %s" % (path, e))
    except (FileNotFoundError, RuntimeError) as e:
        # The kernel did not start (e.g. `tslab` not on PATH: run through scripts/run-notebooks.sh).
        ok = False
        print("FAIL %s: could not start the tslab kernel: %s" % (path, e))
    seconds = time.time() - started
    if out_dir:
        os.makedirs(out_dir, exist_ok=True)
        nbformat.write(nb, os.path.join(out_dir, os.path.basename(path)))
    print("%s %s (%d code cells, %.1f s)" % ("ok  " if ok else "FAIL", os.path.relpath(path, ROOT), sum(c.cell_type == "code" for c in nb.cells), seconds))
    return ok


def main(argv):
    ap = argparse.ArgumentParser(description="Execute moelab notebooks with the tslab kernel.")
    ap.add_argument("notebooks", nargs="*", help="notebooks to run (default: notebooks/*.ipynb)")
    ap.add_argument("--out", help="write the executed notebooks into this folder")
    ap.add_argument("--timeout", type=int, default=300, help="seconds a single cell may run (default 300)")
    ap.add_argument("--check-clean", action="store_true", help="only check that the notebooks carry no outputs")
    args = ap.parse_args(argv)

    paths = [os.path.abspath(p) for p in args.notebooks] or sorted(glob.glob(os.path.join(ROOT, "notebooks", "*.ipynb")))
    if not paths:
        print("no notebooks found under %s" % os.path.join(ROOT, "notebooks"))
        return 2
    missing = [p for p in paths if not os.path.isfile(p)]
    if missing:
        print("no such notebook: %s" % ", ".join(missing))
        return 2

    if args.check_clean:
        bad = [(p, dirty_cells(nbformat.read(p, as_version=4))) for p in paths]
        bad = [(p, cells) for p, cells in bad if cells]
        for p, cells in bad:
            print("FAIL %s: code cells %s carry outputs; clear them before committing (Jupyter: Edit > Clear All Outputs)" % (os.path.relpath(p, ROOT), cells))
        return 1 if bad else 0

    failed = [p for p in paths if not run_one(p, args.out, args.timeout)]
    print("%d notebooks ok, %d failed" % (len(paths) - len(failed), len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
