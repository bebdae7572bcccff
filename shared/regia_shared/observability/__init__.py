"""Observability: Prometheus metrics of the plumbing, structured logs, GC tuning."""
