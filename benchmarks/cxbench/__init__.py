"""cxpipe's benchmark harness (issue #16): every stage beside its floor, on the same data, in one run.

``make bench SF="1 10" REPEATS=3`` runs :mod:`cxbench.harness`; ``benchmarks/harness.py`` is its
command line. Each stage and each baseline runs in a fresh child process under
:mod:`cxbench.measure`, which reports the CPU time (user + system) and peak memory of that
child's whole process tree. The numbers depend on the machine and its load: no test asserts them.
"""
