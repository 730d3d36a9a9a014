"""``python -m prepuller``: the same as the ``prepuller`` console script."""

from ._cli import main

raise SystemExit(main())
