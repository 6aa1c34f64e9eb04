"""Amazon SES v2: ``POST /v2/email/outbound-emails`` (SendEmail), one raw message a call.

SES's bulk call needs a template stored at AWS, so each member's finished RFC 5322
message goes as ``Content.Raw.Data``: exactly the bytes the SMTP and outbox backends
send. Requests are signed with SigV4 by botocore (the optional ``ses`` extra, imported
only when this backend is chosen). SES names its errors in ``x-amzn-ErrorType``: a
rejected message is that member's permanent failure; a throttle is retried; an account
or sender problem stops the send.
"""
from __future__ import annotations

import base64
import os
from typing import Any, Sequence

import requests

from ...errors import ConfigError, DeliveryError, TemporaryDeliveryError
from ...render.mime import OutgoingMessage
from .base import RecipientResult, Status
from .base_http import HttpBackend, HttpRequest, reply_text

_RETRYABLE = ("TooManyRequestsException", "LimitExceededException", "ThrottlingException")


def _botocore() -> Any:
    try:
        from botocore import auth, awsrequest, credentials
    except ImportError:
        raise ConfigError("the ses backend needs botocore: pip install 'digest[ses]'") from None
    return auth, awsrequest, credentials


class SesBackend(HttpBackend):
    name = "ses"
    max_batch = 1
    needs_raw = True
    secret_key = "access_key_env"

    def __init__(self, settings):
        super().__init__(settings)
        self.region = str(self.config["region"]).strip()
        if not self.region:
            raise ConfigError("[ses] region is empty")
        self.base_url = self.base_url or f"https://email.{self.region}.amazonaws.com"
        self._auth, self._awsrequest, credentials = _botocore()
        token = os.environ.get(str(self.config["session_token_env"]), "").strip() or None  # only temporary keys have one
        self.credentials = credentials.Credentials(self.secret, self.read_secret("secret_key_env"), token)

    def build_request(self, messages: Sequence[OutgoingMessage]) -> HttpRequest:
        message = messages[0]
        data: dict[str, object] = {
            "Destination": {"ToAddresses": [message.recipient]},
            "Content": {"Raw": {"Data": base64.b64encode(message.raw).decode("ascii")}},
        }
        if self.config["configuration_set"]:
            data["ConfigurationSetName"] = str(self.config["configuration_set"])
        return HttpRequest("/v2/email/outbound-emails", json=data)

    def sign(self, url: str, headers: dict[str, str], body: bytes) -> dict[str, str]:
        request = self._awsrequest.AWSRequest(method="POST", url=url, data=body, headers=headers)
        self._auth.SigV4Auth(self.credentials, "ses", self.region).add_auth(request)
        return dict(request.headers.items())

    def parse(self, response: requests.Response, messages: Sequence[OutgoingMessage]) -> list[RecipientResult]:
        reply = self.json_reply(response)
        if not isinstance(reply, dict) or "MessageId" not in reply:
            raise DeliveryError("ses sent an unexpected reply", reply=reply_text(response))
        return [RecipientResult(messages[0].recipient, Status.SENT, str(reply["MessageId"]))]

    def refused(self, response: requests.Response, messages: Sequence[OutgoingMessage]) -> list[RecipientResult]:
        kind = _error_type(response)
        reason = f"{kind}: {reply_text(response)}" if kind else reply_text(response)
        if kind == "MessageRejected":
            return [RecipientResult(messages[0].recipient, Status.PERMANENT, reason=reason)]
        if kind in _RETRYABLE:
            raise TemporaryDeliveryError(f"ses is throttling ({kind})", reply=reply_text(response))
        raise DeliveryError(f"ses refused the request ({kind or 'HTTP ' + str(response.status_code)})", reply=reply_text(response))


def _error_type(response: requests.Response) -> str:
    """SES's error name: the x-amzn-ErrorType header, else ``__type``/``code`` in the body."""
    header = response.headers.get("x-amzn-ErrorType", "")
    if header:
        return header.partition(":")[0]
    try:
        body = response.json()
    except ValueError:
        return ""
    name = str(body.get("__type") or body.get("code") or "") if isinstance(body, dict) else ""
    return name.rpartition("#")[2]
