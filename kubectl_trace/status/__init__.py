"""The ``status`` feature.

The report as data (``report``), the checks that ask the API (``checks``), CPU/memory/OOM and
shutdown facts (``resources``), rich output (``render``) and the every-namespace table
(``all``). ``cli/cmd_status.py`` holds the flags and the wiring.
"""
