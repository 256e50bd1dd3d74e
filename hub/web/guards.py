"""Access guards: every route declares who may call it.

A view without a guard is refused at run time (deny by default) and fails
``tests/test_architecture.py``. Object-level rules (which agency's contact,
which referral) live in each package's ``policies.py``; these guards only
decide who may reach the route at all.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from authlib.oauth2 import OAuth2Error
from flask import abort, g, redirect, request, url_for
from flask_login import current_user

from hub.audit import Origin, set_origin
from hub.oauth.server import client_actor, require_oauth
from hub.permissions import Actor, Role

F = TypeVar("F", bound=Callable[..., Any])
ACCESS_ATTR = "_hub_access"
# Pages a user who must change their password or enrol 2FA may still reach.
_SETUP_ENDPOINTS = {"auth.change_password", "auth.sign_out"}


def public(view: F) -> F:
    """Anyone, signed in or not (sign-in page, static files, health checks)."""
    setattr(view, ACCESS_ATTR, ("public",))
    return view


def mark_public(app: Any, endpoint: str) -> None:
    """Mark a view we did not write (static files, the OpenAPI document) public."""
    original = app.view_functions[endpoint]

    @functools.wraps(original)
    def view(*args: Any, **kwargs: Any) -> Any:
        return original(*args, **kwargs)

    app.view_functions[endpoint] = public(view)


def signed_in(*roles: Role, staff: bool = False) -> Callable[[F], F]:
    """A signed-in person; optionally only these roles, or only host staff."""
    allowed = frozenset(roles)

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                ended = g.get("session_end_reason")
                return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?"), ended=ended))
            if current_user.must_change_password and request.endpoint not in _SETUP_ENDPOINTS:
                return redirect(url_for("auth.change_password"))
            if staff and not current_user.is_staff:
                abort(403)
            if allowed and current_user.role not in allowed:
                abort(403)
            g.actor = current_user._get_current_object()
            return view(*args, **kwargs)

        setattr(guarded, ACCESS_ATTR, ("signed_in", tuple(sorted(allowed)), staff))
        return guarded  # type: ignore[return-value]

    return decorator


def api_scope(*scopes: str) -> Callable[[F], F]:
    """A partner system holding a live bearer token with all of these scopes."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            try:
                token = require_oauth.acquire_token([" ".join(scopes)])
            except OAuth2Error as error:
                require_oauth.raise_error_response(error)
            g.actor = client_actor(token.client, token.scope)
            set_origin(Origin("api", request.remote_addr))
            return view(*args, **kwargs)

        setattr(guarded, ACCESS_ATTR, ("api", tuple(scopes)))
        return guarded  # type: ignore[return-value]

    return decorator


def documented_scope(blp: Any, scope: str) -> Callable[[F], F]:
    """:func:`api_scope`, also declared in the OpenAPI document of ``blp``."""

    def decorator(view: F) -> F:
        documented: F = blp.doc(security=[{"oauth2": [scope]}])(view)
        return api_scope(scope)(documented)

    return decorator


def current_actor() -> Actor:
    actor: Actor = g.actor
    return actor


def view_access(view: Any, method: str | None = None) -> Any:
    """The guard declared on a view function (or on a MethodView's method)."""
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        methods: Iterable[str] = [method.lower()] if method else [m.lower() for m in (view_class.methods or ())]
        found = [getattr(getattr(view_class, m, None), ACCESS_ATTR, None) for m in methods]
        return None if any(f is None for f in found) else found
    return getattr(view, ACCESS_ATTR, None)
