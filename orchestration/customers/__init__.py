"""Customer-level analytics: lifetime value and the models behind it."""
