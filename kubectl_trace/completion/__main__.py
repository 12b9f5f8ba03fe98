"""``python -m kubectl_trace.completion PROGRAM ARGS…`` (see ``run``)."""

import sys

from kubectl_trace.completion.run import main

main(sys.argv[1:])
