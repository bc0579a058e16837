"""The email channel's pure layer: parsing raw inbound mail into plain values.

The intake pipeline (threading, contacts, tickets) builds on ``parse_email`` and
the subject-token helpers; nothing in this package touches the database.
"""
from .parsing import (
    Address,
    Bounce,
    ParsedAttachment,
    ParsedEmail,
    normalize_message_id,
    parse_email,
    subject_token,
    subject_with_token,
)

from .parsing import __all__  # noqa: E402,F401 - the public names, kept in one place
