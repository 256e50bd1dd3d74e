"""Sign in (password, then a code from an authenticator app), sign out,
set up two-factor sign-in and change password."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from hub.auth import services, totp
from hub.auth.models import User
from hub.db import db, unit_of_work
from hub.permissions import Invalid
from hub.settings_access import settings
from hub.text import has_control_characters
from hub.web.guards import public, signed_in

bp = Blueprint("auth", __name__)
PENDING_SECONDS = 300
MAX_CODE_TRIES = 5
BAD_CREDENTIALS = "Enter a correct email address and password"
MAX_NEXT_LENGTH = 2000  # it rides in the session cookie until the code step


def _safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site, else the home page.

    Browsers and werkzeug drop tabs and line breaks from a URL, so ``/<TAB>/x``
    would become ``//x`` (another site); a line break cannot go in a header at
    all; and browsers read a backslash as a slash. So any control character
    or backslash, a scheme or a host sends the person home instead.
    """
    home = url_for("pages.home")
    if not target or not target.startswith("/") or target.startswith("//") or len(target) > MAX_NEXT_LENGTH:
        return home
    if "\\" in target or has_control_characters(target):
        return home
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return home
    return target


def _too_many(wait: int) -> str:
    minutes = max(1, round(wait / 60))
    return f"Too many attempts. Wait {minutes} minute{'s' if minutes != 1 else ''} and try again."


def _finish(user: User, next_url: str | None) -> Response:
    """Start a new server-side session with a new id, dropping anything from before."""
    session.clear()
    with unit_of_work():
        token = services.start_session(user, request.remote_addr)
        services.clear_failures(user.email, request.remote_addr or "")
    session["sid"] = token
    session.permanent = True
    return redirect(_safe_next(next_url))


def _pending_user() -> User | None:
    pending: dict[str, Any] | None = session.get("pending")
    if not pending or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        return None
    user = db.session.get(User, pending.get("uid"))
    return user if user is not None and services.may_act(user) else None


@bp.route("/sign-in", methods=["GET", "POST"])
@public
def sign_in() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("pages.home"))
    errors: dict[str, list[str]] = {}
    email = request.form.get("email", "").strip()[:254]
    status = 200
    if request.method == "POST":
        password = request.form.get("password", "")[:1024]
        ip = request.remote_addr or ""
        if not email or not password:
            errors = {"email": [BAD_CREDENTIALS]}
            status = 400
        elif (wait := services.retry_after(email, ip)) > 0:
            errors, status = {"email": [_too_many(wait)]}, 429
        else:
            user = services.check_password(email, password)
            if user is None:
                with unit_of_work():
                    services.note_failure(email, ip, "password")
                errors, status = {"email": [BAD_CREDENTIALS]}, 401
            elif services.needs_second_factor(user):
                db.session.commit()  # a rehashed password
                session.clear()
                next_url = _safe_next(request.args.get("next"))
                session["pending"] = {"uid": user.id, "at": time.time(), "tries": 0, "next": next_url}
                endpoint = "auth.code" if user.totp_enabled_at else "auth.set_up_code"
                return redirect(url_for(endpoint))
            else:
                return _finish(user, request.args.get("next"))
    reason = request.args.get("ended")
    return render_template("auth/sign_in.html", errors=errors, email=email, ended=reason), status


def _code_step(template: str, enrolling: bool) -> Any:
    user = _pending_user()
    if user is None:
        session.pop("pending", None)
        flash("Your sign-in took too long. Start again.")
        return redirect(url_for("auth.sign_in"))
    errors: dict[str, list[str]] = {}
    status = 200
    secret = None
    if enrolling:
        if user.totp_enabled_at is not None:
            return redirect(url_for("auth.code"))
        # A new secret each time the page is shown, until enrolment: only the
        # secret shown last can be enrolled, so whoever saw an earlier one
        # (over a shoulder, on a shared screen) holds nothing that works.
        # A wrong code (POST) shows the same secret again.
        if request.method != "POST" or user.totp_secret_enc is None:
            with unit_of_work():
                user.totp_secret_enc = totp.encrypt(totp.new_secret(), settings().secret_key)
        secret = totp.decrypt(user.totp_secret_enc or "", settings().secret_key)
    if request.method == "POST":
        code = request.form.get("code", "")[:20]
        ip = request.remote_addr or ""
        pending = dict(session["pending"])
        if (wait := services.retry_after(user.email, ip)) > 0:
            errors, status = {"code": [_too_many(wait)]}, 429
        else:
            ok = (
                services.enrol_second_factor(user, secret or "", code)
                if enrolling
                else services.verify_second_factor(user, code)
            )
            if ok:
                return _finish(user, pending.get("next"))
            with unit_of_work():
                services.note_failure(user.email, ip, "code")
            pending["tries"] = pending.get("tries", 0) + 1
            if pending["tries"] >= MAX_CODE_TRIES:
                session.pop("pending", None)
                flash("Too many wrong codes. Start again.")
                return redirect(url_for("auth.sign_in"))
            session["pending"] = pending
            errors, status = {"code": ["Enter the 6-digit code shown in your authenticator app"]}, 401
    context: dict[str, Any] = {"errors": errors}
    if enrolling and secret:
        uri = totp.provisioning_uri(secret, user.email)
        context.update(secret=secret, qr=totp.qr_svg(uri))
    return render_template(template, **context), status


@bp.route("/sign-in/code", methods=["GET", "POST"])
@public
def code() -> Any:
    return _code_step("auth/code.html", enrolling=False)


@bp.route("/sign-in/set-up-code", methods=["GET", "POST"])
@public
def set_up_code() -> Any:
    return _code_step("auth/set_up_code.html", enrolling=True)


@bp.post("/sign-out")
@public
def sign_out() -> Response:
    token = session.get("sid")
    if token:
        with unit_of_work():
            services.end_session(token)
    session.clear()
    flash("You have signed out.")
    return redirect(url_for("auth.sign_in"))


@bp.route("/account/password", methods=["GET", "POST"])
@signed_in()
def change_password() -> Any:
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        try:
            with unit_of_work():
                services.change_password(
                    current_user._get_current_object(),
                    request.form.get("current_password", "")[:1024],
                    request.form.get("new_password", "")[:1024],
                    keep_session=session.get("sid"),
                )
        except Invalid as exc:
            errors, status = exc.errors, 422
        else:
            flash("Your password has been changed.")
            return redirect(url_for("pages.home"))
    return render_template("auth/change_password.html", errors=errors, forced=current_user.must_change_password), status
