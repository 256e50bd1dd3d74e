"""Flask extensions, created unbound and initialised by the app factory."""

from __future__ import annotations

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_wtf.csrf import CSRFProtect


class HubApi(Api):  # type: ignore[misc]
    """flask-smorest, with errors rendered by :mod:`hub.web.errors` instead."""

    def _register_error_handlers(self) -> None:
        pass


login_manager = LoginManager()
csrf = CSRFProtect()
migrate = Migrate()
api = HubApi()
