#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Print base-vs-series tables from the "bench:" lines of two sets of runs.

usage: bench-table.py OUTDIR MODE...
Reads OUTDIR/{base,series}/results-LIST-MODE.ktap, LIST from $BENCH_LIST
(default: bench).  Each "bench:" line is
"key=value ..."; lines with the same tag are repeats, and each numeric metric
is reported as the median of its repeats.
"""
import os
import statistics
import sys


def load(path):
    runs = {}
    if not os.path.exists(path):
        return runs
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line.startswith('# bench:'):
                continue
            kv = dict(w.split('=', 1) for w in line[len('# bench:'):].split() if '=' in w)
            runs.setdefault(kv.get('tag', '?'), []).append(kv)
    return runs


def median(runs, key):
    vals = []
    for kv in runs:
        try:
            vals.append(float(kv[key]))
        except (KeyError, ValueError):
            return None
    return statistics.median(vals) if vals else None


def fmt(v):
    if v is None:
        return '-'
    return '%.1f' % v if v != int(v) else '%d' % v


def main():
    outdir, modes = sys.argv[1], sys.argv[2:]
    lst = os.environ.get('BENCH_LIST', 'bench')
    for mode in modes:
        base = load(os.path.join(outdir, 'base', 'results-%s-%s.ktap' % (lst, mode)))
        series = load(os.path.join(outdir, 'series', 'results-%s-%s.ktap' % (lst, mode)))
        for tag in sorted(set(base) | set(series)):
            b, s = base.get(tag, []), series.get(tag, [])
            first = (s or b)[0]
            desc = ' '.join('%s=%s' % (k, first[k]) for k in
                            ('pages', 'touched', 'populate', 'accessed', 'order', 'access',
                             'prefetch', 'prefault', 'vm_ring', 'vm_ring_bytes', 'passes',
                             'vcpus', 'rounds', 'guest_mib', 'source')
                            if k in first)
            for k in ('prefetch', 'prefault', 'vm_ring', 'source'):
                if b and b[0].get(k) != first.get(k):
                    desc += '; base: %s=%s' % (k, b[0].get(k))
            print('\n== %s, mode %s (%s; base n=%d, series n=%d)' % (tag, mode, desc, len(b), len(s)))
            print('%-24s %12s %12s %8s' % ('metric', 'base', 'series', 'ratio'))
            keys = []
            for kv in s + b:
                keys += [k for k in kv if k.startswith(('prefault_', 'touch_', 'total_', 'dirty_',
                                                     'storm_', 'meta_'))
                         and k not in keys]
            for k in keys:
                mb, ms = median(b, k), median(s, k)
                if mb is None and ms is None:
                    continue
                ratio = '%.3f' % (ms / mb) if mb and ms is not None else '-'
                print('%-24s %12s %12s %8s' % (k, fmt(mb), fmt(ms), ratio))


if __name__ == '__main__':
    main()
