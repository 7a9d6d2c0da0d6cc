"""ScriptBatch benchmarks: ``python -m bench`` (see bench/README.md).

They time the real ``scriptbatch`` command against reference launchers run in the same process
of measurement, on the same machine and the same generated scripts, and print ratios. They write
nothing outside a temporary folder and are never run by the test suite or CI.
"""
