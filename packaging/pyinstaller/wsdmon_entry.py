"""PyInstaller entry point of the wsdmon bundle (`python -m wsdmon` for a frozen app).

freeze_support() first: a frozen app that starts a child process with multiprocessing must let
the child run its target instead of a second copy of the application.
"""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()
    from wsdmon.app import main

    sys.exit(main())
