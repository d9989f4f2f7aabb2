"""Handler modules the real runtime interface client (awslambdaric) imports in test_runtime_loop.

Only constants live here: importing this package must not build an adapter.
"""

SHUTDOWN_SPAN = "after the last invocation"
"""A span the lifespan shutdown ends: only the final flush on SIGTERM can export it."""
