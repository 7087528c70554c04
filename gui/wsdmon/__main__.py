"""`python -m wsdmon` → the application."""

from wsdmon.app import main

raise SystemExit(main())
