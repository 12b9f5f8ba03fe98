"""``python -m kubectl_trace [PROGRAM-NAME] ARGS…`` — what the ``bin/`` wrappers run."""

import sys

from kubectl_trace.cli.main import main_for_program

main_for_program(sys.argv[1:])
