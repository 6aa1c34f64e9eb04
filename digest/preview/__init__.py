"""``digest preview``: a local, live-reloading preview of draft issues for staff.

``state`` decides what to show and caches it per issue; ``server`` routes requests to
pages rendered from ``pages/``. Tests start ``create_server(...)`` in a thread.
"""
from .server import PreviewServer, create_server, is_loopback, listen_address

__all__ = ["PreviewServer", "create_server", "is_loopback", "listen_address"]
