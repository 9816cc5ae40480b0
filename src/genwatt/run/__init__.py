"""Workloads run under a meter: arbitrary commands, instrumented pipelines, sweeps."""
