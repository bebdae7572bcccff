"""Regia's command line and local runtime: `regia up` brings the whole system up on one
machine with embedded PostgreSQL and an embedded Kafka-compatible broker."""
