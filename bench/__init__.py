"""``make bench``: the hub measured against the providers' limits and against dlt, on this machine.

Run ``python -m bench.run [--quick]``. Each benchmark is one module with a ``run(quick) -> Section``;
:mod:`bench.run` renders ``bench/results.md`` and ``bench/plots/*.png`` and exits non-zero, naming every
missed target, when a measurement misses its target. Simulators run in their own processes
(:mod:`bench.simproc`) so that the server's CPU never competes with the client being measured, and every
peak-RSS figure comes from a fresh child process (:mod:`bench.common`).
"""
