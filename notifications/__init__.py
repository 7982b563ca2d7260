"""Notifications: findings become outbox rows, the outbox is delivered through a channel (SPEC section 5)."""
