"""Building raw test mail and email channels for the channel tests."""
from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from django.utils import timezone

from channels_hub.models import Channel, ChannelKind


def email_channel(tenant, *, address: str = "support@acme.test", name: str = "Support", **values) -> Channel:
    from channels_hub.services.channels import channel_create

    channel, _secret = channel_create(tenant=tenant, actor=None, kind=ChannelKind.EMAIL,
                                      values={"name": name, "address": address, **values})
    return channel


def raw_mail(*, sender: str = "Jane Doe <jane@example.org>", to: str = "support@acme.test", subject: str = "Help",
             body: str = "I cannot log in.", message_id: str | None = None, in_reply_to: str = "",
             references: str = "", cc: str = "", headers: dict | None = None, html: str = "",
             attachments: list[tuple[str, str, bytes]] = ()) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    if cc:
        message["Cc"] = cc
    message["Subject"] = subject
    message["Date"] = format_datetime(timezone.now())
    message["Message-ID"] = message_id if message_id is not None else make_msgid(domain="example.org")
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = references
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    if html:
        message.add_alternative(html, subtype="html")
    for filename, content_type, content in attachments:
        maintype, subtype = content_type.split("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()
