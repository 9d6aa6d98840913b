"""The web tier: one blueprint per concern, one error handler."""
