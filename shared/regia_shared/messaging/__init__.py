"""Messaging: the outbox and its relay, the inbox, the shared Kafka consumer, topic creation, batching."""
