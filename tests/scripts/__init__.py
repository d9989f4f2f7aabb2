"""Programs the tests run in their own process (signals, exit hooks, imports)."""
