"""Reads of the knowledge app, one module per concern (``helpcenter``: the public pages)."""
