"""Cross-channel journey analytics: path attribution models."""
