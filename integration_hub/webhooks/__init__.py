"""Inbound provider webhooks: verify, store in the inbox, let a sensor turn them into targeted runs."""
