"""Listening reports of the help center: what customers search for and find (or not), how
many self-service visits end without a ticket (deflection), which articles carry the views
(80/20), content gaps and content health. Reads only (selectors); the writes that go with
them (gap refresh, draft from a gap, the weekly owner notice) are in ``knowledge.services``.
"""
