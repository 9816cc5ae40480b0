"""Analyses of stored measurements: scaling laws, summaries for tables and reports."""
