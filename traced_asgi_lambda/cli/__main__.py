"""``python -m traced_asgi_lambda.cli``: the same as the ``traced-asgi-lambda`` command."""

from __future__ import annotations

import sys

from traced_asgi_lambda.cli import main

sys.exit(main())
