"""Peak resident memory of one gradient call, measured in this (fresh) process.

Started by run.py in a subprocess per peer. Imports the peer, warms it up on a tiny layer (so
that lazily started runtimes and thread pools are part of the baseline), makes the inputs, then
resets the kernel's high-water mark (Linux /proc/self/clear_refs) and records ru_maxrss before
and after one call: the difference is the call's own peak memory, inputs excluded. Where the
reset is refused, the baseline is the high-water mark so far and the difference is a lower
bound. For JIT-compiled peers the call includes compiling for the new shape.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import sys
from typing import Any

from cases import Case, make_inputs, parse_size
from peers import PeerOptions, load

KIB = 1024


def max_rss_kib() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)  # KiB on Linux


def current_rss_kib() -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def probe(peer_name: str, case: Case, threads: int | None) -> dict[str, Any]:
    peer = load(peer_name)
    options = PeerOptions(threads=threads)
    peer.setup(options)
    impl = next(i for i in peer.implementations(options) if i.task == case.task)
    tiny_step, _ = impl.prepare(*make_inputs((3, 3, 2), case.dtype))
    tiny_step()
    x, w = make_inputs(case.size, case.dtype)
    step, _ = impl.prepare(x, w)
    gc.collect()
    current_before = current_rss_kib()
    reset = reset_peak()
    before = max_rss_kib()
    result = step()
    after = max_rss_kib()
    output_bytes = x.nbytes + w.nbytes  # dX and dW are the sizes of X and W
    del result
    return {
        "impl": impl.name,
        **case.as_dict(),
        "peak_reset": reset,
        "rss_before_kib": before,
        "rss_current_before_kib": current_before,
        "rss_peak_kib": after,
        "delta_mib": (after - before) / KIB,
        "inputs_mib": (x.nbytes + w.nbytes) / KIB**2,
        "outputs_mib": output_bytes / KIB**2,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer", required=True)
    parser.add_argument("--size", default="1024x1024x1024")
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--task", default="reverse")
    parser.add_argument("--threads", type=int)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    case = Case(task=args.task, size=parse_size(args.size), dtype=args.dtype)
    try:
        output = {"peer": args.peer, **probe(args.peer, case, args.threads)}
    except Exception as error:
        output = {"peer": args.peer, "error": f"{type(error).__name__}: {error}"[:300]}
    with open(args.out, "w") as f:
        json.dump(output, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
