"""``digest.web:app``, the WSGI entry point deployments name, kept stable while the
app itself lives in ``digest.members.web``."""
from .members.web import UnsubscribeApp, app, make_app, make_unsubscribe_server

__all__ = ["UnsubscribeApp", "app", "make_app", "make_unsubscribe_server"]
