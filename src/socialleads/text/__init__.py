"""Text helpers shared by several stages (stop words, distinctive terms)."""
