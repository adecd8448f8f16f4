#!/usr/bin/env python3
"""Median wall and CPU time of commands run in turn (interleaved, so machine noise hits all alike).

  python3 benches/median.py [--runs N] 'CMD 1' 'CMD 2' ...

Each command is split like a shell would (no pipes or redirections). CPU is user + system of the child.
The minimum wall time is printed too: on a shared machine it shows what a change did when the median is
blurred by other load.
"""
import argparse
import os
import shlex
import statistics
import subprocess
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--runs', type=int, default=15)
    ap.add_argument('commands', nargs='+')
    args = ap.parse_args()
    wall = {c: [] for c in args.commands}
    cpu = {c: [] for c in args.commands}
    for _ in range(args.runs):
        for c in args.commands:
            start = time.perf_counter()
            child = subprocess.Popen(shlex.split(c), stdout=subprocess.DEVNULL)
            _, status, usage = os.wait4(child.pid, 0)
            if status != 0:
                raise SystemExit(f'failed ({status}): {c}')
            wall[c].append(time.perf_counter() - start)
            cpu[c].append(usage.ru_utime + usage.ru_stime)
    for c in args.commands:
        print(f'wall {statistics.median(wall[c]) * 1000:8.1f} ms (min {min(wall[c]) * 1000:6.1f})  '
              f'cpu {statistics.median(cpu[c]) * 1000:8.1f} ms  {c}')


if __name__ == '__main__':
    main()
