"""socialleads: an open-source social media leadership system (LEADS)."""

__version__ = "0.1.0"
