"""``digest.web:app``, the WSGI entry point deployments name, kept stable while the
app itself lives in ``digest.members.app`` (sign-up, confirmation, preferences) and
``digest.members.web`` (one-click unsubscribe)."""
from .members.app import PublicApp, app, make_public_app, make_public_server
from .members.web import UnsubscribeApp, make_app, make_unsubscribe_server

__all__ = ["PublicApp", "UnsubscribeApp", "app", "make_app", "make_public_app", "make_public_server",
           "make_unsubscribe_server"]
