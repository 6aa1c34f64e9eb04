"""The outbox backend writes one parseable .eml per member, atomically."""
from __future__ import annotations

import email
import email.policy

import pytest

from digest.delivery.backends import get_backend
from digest.delivery.backends.base import Status
from digest.content import load_issue
from digest.errors import ConfigError
from digest.render import render_issue
from digest.render.mime import MessageFactory

from .conftest import SEED_ISSUE


def test_outbox_writes_one_eml_per_member_named_by_address(settings, tmp_path):
    from dataclasses import replace

    settings = replace(settings, tables={**settings.tables, "outbox": {"path": str(tmp_path / "outbox")}})
    factory = MessageFactory(render_issue(load_issue(SEED_ISSUE), settings), settings, "s")
    messages = [factory.personalise(f"m{n}@example.org", f"M {n}") for n in range(3)] + [factory.personalise("we/ird@example.org")]
    with get_backend(settings) as backend:
        results = backend.send_batch(messages)
    assert [r.status for r in results] == [Status.SENT] * 4
    assert [r.message_id for r in results] == [m.message_id for m in messages]
    files = sorted((tmp_path / "outbox" / "2015-10").iterdir())
    assert len(files) == 4 and not any(f.suffix == ".tmp" for f in files)
    parsed = email.message_from_bytes((tmp_path / "outbox" / "2015-10" / "m0@example.org.eml").read_bytes(), policy=email.policy.default)
    assert parsed["To"].addresses[0].addr_spec == "m0@example.org"


def test_unknown_backend_name_lists_the_known_ones(settings):
    with pytest.raises(ConfigError, match="unknown delivery backend 'pigeon' \\(known: .*outbox"):
        get_backend(settings, "pigeon")
