"""Regia's shared kernel: event contracts, money and level types, and the plumbing every
service needs (outbox, inbox, database, Kafka, metrics, logging). No business rules."""
