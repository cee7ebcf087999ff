#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Print what the demonstration's guests did, from its KTAP results.

usage: demo-summary.py RESULTS.ktap
"""
import sys

print('%-12s %-12s %8s %10s %14s %10s %12s' % (
    'guest', 'prefetch', 'pages', 'pf_taken', 'pf_prefetched', 'touch_ms', 'dirty_pages'))
for line in open(sys.argv[1]):
    if not line.startswith('# bench:'):
        continue
    kv = dict(w.split('=', 1) for w in line[len('# bench:'):].split() if '=' in w)
    print('%-12s %-12s %8s %10s %14s %10s %12s' % (
        kv.get('tag'), kv.get('prefetch'), kv.get('pages'), kv.get('touch_pf_taken', '-'),
        kv.get('touch_pf_prefetched', '-'), kv.get('touch_ms', '-'), kv.get('dirty_pages', '-')))
