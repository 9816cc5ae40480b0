"""The multi-task suite: every task, per 1,000 queries, on the runner, meter and store."""
