"""Time-based one-time passwords (RFC 6238): pure functions, no database.

Replay protection lives in ``services.two_factor_check``: it accepts a code only when its
time step is later than the last one the user spent (``User.totp_last_counter``).
"""
from __future__ import annotations

import re
import time
from xml.etree import ElementTree

import pyotp
import qrcode
import qrcode.image.svg

DIGITS = 6
INTERVAL = 30
# Codes from one step before and after now are accepted (clock drift, slow typing).
WINDOW = 1
CODE_RE = re.compile(r"^\d{6}$")


def new_secret() -> str:
    return pyotp.random_base32()


def normalize_code(raw: str) -> str:
    """Digits only: people paste codes with spaces or dashes ("123 456")."""
    return re.sub(r"[\s-]", "", raw or "")


def counter_at(at: float) -> int:
    return int(at // INTERVAL)


def matching_counter(*, secret: str, code: str, at: float | None = None, window: int = WINDOW) -> int | None:
    """The time step whose code equals ``code`` within ±``window`` steps of ``at``, else None."""
    code = normalize_code(code)
    if not secret or not CODE_RE.match(code):
        return None
    now = time.time() if at is None else at
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL)
    current = counter_at(now)
    # Newest first, so a code valid for two steps (impossible in practice) maps to the later one.
    for counter in range(current + window, current - window - 1, -1):
        if pyotp.utils.strings_equal(totp.generate_otp(counter), code):
            return counter
    return None


def provisioning_uri(*, secret: str, account: str, issuer: str) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL).provisioning_uri(name=account, issuer_name=issuer)


def qr_svg(data: str, *, title: str = "") -> str:
    """An inline ``<svg>`` QR code of ``data`` (no XML declaration, no external resources)."""
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=4)
    ElementTree.register_namespace("", "http://www.w3.org/2000/svg")
    root = ElementTree.fromstring(image.to_string())
    # Sized by CSS; a white background keeps it scannable in a dark theme.
    root.attrib.pop("width", None)
    root.attrib.pop("height", None)
    root.set("role", "img")
    root.set("class", "qr-code")
    root.set("style", "background:#fff")
    if title:
        title_el = ElementTree.Element("{http://www.w3.org/2000/svg}title")
        title_el.text = title
        root.insert(0, title_el)
    return ElementTree.tostring(root, encoding="unicode")


def format_secret(secret: str) -> str:
    """The secret in groups of four, easier to type into an authenticator app."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
