"""Energy sources: one module per counter family, plus the estimate for domains without one."""
