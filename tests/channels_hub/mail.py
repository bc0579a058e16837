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


def dsn_mail(*, original_id: str, recipient: str) -> bytes:
    """A delivery status notification (RFC 3464): our mail ``original_id`` to ``recipient``
    failed permanently (5.1.1)."""
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\r\n"
        "To: support@acme.test\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <dsn-1@mx.example.org>\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.org\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 no such user\r\n"
        "--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: <{original_id}>\r\nSubject: We received your request\r\n"
        "--B--\r\n"
    ).encode()
