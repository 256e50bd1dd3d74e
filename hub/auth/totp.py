"""Time-based one-time passwords (RFC 6238) for two-factor sign-in.

Secrets are stored encrypted with a key derived from SECRET_KEY; a code is
accepted once only (the last accepted time-step is remembered) and within one
step of clock drift either way.
"""

from __future__ import annotations

import base64
import hashlib
import time

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken

ISSUER = "Partnership Hub"


def _fernet(secret_key: str) -> Fernet:
    digest = hashlib.sha256(("totp-secret:" + secret_key).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def new_secret() -> str:
    return pyotp.random_base32()


def encrypt(secret: str, secret_key: str) -> str:
    return _fernet(secret_key).encrypt(secret.encode()).decode()


def decrypt(token: str, secret_key: str) -> str | None:
    try:
        return _fernet(secret_key).decrypt(token.encode()).decode()
    except InvalidToken:
        return None


def matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time-step a code belongs to (allowing one step of drift), or None."""
    code = "".join(ch for ch in code if ch.isdigit())
    if len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    now = time.time() if now is None else now
    step_now = int(now // totp.interval)
    for step in (step_now, step_now - 1, step_now + 1):
        if pyotp.utils.strings_equal(totp.generate_otp(step), code):
            return step
    return None


def provisioning_uri(secret: str, account: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """An inline SVG QR code (no JavaScript, no image request)."""
    return segno.make(uri, error="m").svg_inline(scale=4, title="QR code for your authenticator app")
