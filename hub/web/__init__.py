"""The web edge: access guards, error pages and problem documents, security
headers, CSRF, templates and static assets. Only this layer (and the
``views``/``api`` modules of domain packages) may read the request."""
