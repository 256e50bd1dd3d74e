"""The hub kernel.

Owns the application factory, configuration, the database session and
unit-of-work boundary, sign-in and sessions, OAuth 2.0 for partner systems,
access guards, the audit log, web error handling and the operator CLI.

The kernel never imports a domain package (``agencies``, ``consent`` ...):
it loads them by name from :data:`hub.modules.MODULES`, and domain packages
talk back to it through the functions and signals it exposes.
"""
