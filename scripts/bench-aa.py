#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Series/base ratios of one metric against the base/base noise of repeats.

usage: bench-aa.py LIST TAG METRIC OUTDIR1 OUTDIR2 [OUTDIR...] -- MODE...

Each OUTDIR is one scripts/bench.sh run of tests/LIST.list (base and series
booted one after the other in each mode).  For every mode, prints the median
of METRIC over the TAG repeats of each boot, then the series/base ratio within
each run, and the base/base and series/series ratios between runs (the same
kernel booted twice: what noise alone does), and the pooled medians with a Mann-Whitney rank-sum p.  The
series is "unchanged within noise" when its series/base ratios lie inside the
spread of those.
"""
import importlib.util
import itertools
import math
import os
import statistics
import sys

# The "bench:" line parser of bench-table.py (a file name no import reaches;
# no __pycache__ left beside it).
sys.dont_write_bytecode = True
_spec = importlib.util.spec_from_file_location(
    'bench_table', os.path.join(os.path.dirname(os.path.realpath(__file__)), 'bench-table.py'))
bench_table = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_table)


def values(path, tag, metric):
    return [float(kv[metric]) for kv in bench_table.load(path).get(tag, []) if metric in kv]


def rank_sum_p(a, b):
    """Two-sided p of the Mann-Whitney U test (normal approximation)."""
    pooled = sorted((v, i) for i, vs in enumerate((a, b)) for v in vs)
    ranks, i = {}, 0
    while i < len(pooled):
        j = i
        while j < len(pooled) and pooled[j][0] == pooled[i][0]:
            j += 1
        ranks[pooled[i][0]] = (i + j + 1) / 2
        i = j
    n1, n2 = len(a), len(b)
    u = sum(ranks[v] for v in a) - n1 * (n1 + 1) / 2
    sd = math.sqrt(n1 * n2 * (n1 + n2 + 1) / 12)
    z = (u - n1 * n2 / 2) / sd if sd else 0
    return math.erfc(abs(z) / math.sqrt(2))


def main():
    if '--' not in sys.argv or len(sys.argv) < 7:
        sys.exit(__doc__)
    sep = sys.argv.index('--')
    lst, tag, metric = sys.argv[1:4]
    outs, modes = sys.argv[4:sep], sys.argv[sep + 1:]
    for mode in modes:
        med, pool = {}, {'base': [], 'series': []}
        print('%s, %s %s (median of repeats per boot):' % (mode, tag, metric))
        for i, out in enumerate(outs, 1):
            for k in ('base', 'series'):
                v = values(os.path.join(out, k, 'results-%s-%s.ktap' % (lst, mode)), tag, metric)
                med[k, i] = statistics.median(v) if v else None
                pool[k] += v
                print('  run %d %-6s n=%d median=%s min=%s max=%s' %
                      (i, k, len(v), med[k, i], min(v, default=None), max(v, default=None)))
        sb = ['%.3f' % (med['series', i] / med['base', i])
              for i in range(1, len(outs) + 1) if med['series', i] and med['base', i]]
        aa = ['%s %d/%d %.3f' % (k, j, i, med[k, j] / med[k, i])
              for k in ('base', 'series')
              for i, j in itertools.combinations(range(1, len(outs) + 1), 2)
              if med[k, i] and med[k, j]]
        print('  series/base per run: %s' % ', '.join(sb))
        print('  same kernel, run/run: %s' % ', '.join(aa))
        if pool['base'] and pool['series']:
            mb, ms = statistics.median(pool['base']), statistics.median(pool['series'])
            print('  pooled: base n=%d median=%s, series n=%d median=%s, series/base %.3f, '
                  'rank-sum p=%.2f' % (len(pool['base']), mb, len(pool['series']), ms, ms / mb,
                                       rank_sum_p(pool['base'], pool['series'])))


if __name__ == '__main__':
    main()
