"""The ticket token in subjects (``[#1234]``), SPEC §6 rule 2 and outbound mail.

The token is only a hint: the pipeline trusts it only when the sender already
takes part in that ticket, so parsing here can be generous with spacing.
"""
from __future__ import annotations

import re
from functools import lru_cache

MAX_TICKET_NUMBER_DIGITS = 18  # fits a signed 64-bit column


@lru_cache(maxsize=32)
def _token_pattern(prefix: str) -> re.Pattern[str]:
    return re.compile(
        r"\[\s*" + re.escape(prefix.strip()) + r"\s*(\d{1," + str(MAX_TICKET_NUMBER_DIGITS) + r"})\s*\]",
        re.I,
    )


def _numbers(subject: str, prefix: str) -> list[int]:
    return [int(found) for found in _token_pattern(prefix).findall(subject or "") if int(found) > 0]


def subject_token(subject: str, prefix: str = "#") -> int | None:
    """The ticket number in ``subject`` ("[#1234]", "[ #1234 ]", "Re: Fwd: x [#1234]"),
    or None. With several tokens the last wins: ours is appended at the end, so an
    earlier one belongs to whatever system the mail passed through before."""
    numbers = _numbers(subject, prefix)
    return numbers[-1] if numbers else None


def subject_with_token(subject: str, number: int, prefix: str = "#") -> str:
    """``subject`` with `` [#number]`` appended, unless that token is already there.
    Other tokens and "Re:"/"Fwd:" prefixes are left alone."""
    if number in _numbers(subject, prefix):
        return subject
    token = f"[{prefix.strip()}{number}]"
    subject = (subject or "").rstrip()
    return f"{subject} {token}" if subject else token
