"""Automatic differentiation by source transformation (reverse mode: `reverse`)."""
