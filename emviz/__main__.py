"""`python -m emviz` is the `emviz` command."""

from emviz.cli import main

raise SystemExit(main())
