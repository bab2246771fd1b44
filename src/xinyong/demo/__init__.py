"""Demo data: a deterministic synthetic 双公示 (licence and penalty) generator.

:mod:`xinyong.demo.generator` produces fictional departments, subjects and licence/penalty rows
in the column layout of DOMAIN.md §6, with valid codes, for demos, tests and benchmarks. The
same seed always gives the same output, and every generator streams, so a million-row file
never sits in memory.
"""
