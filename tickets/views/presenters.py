"""What the ticket page shows of stored values: change lines of system entries and message bodies.

System entries store ``changes`` as ``{"field": [before, after]}`` with ids for relations;
the names of the people, teams and reasons they mention are fetched for the whole page at
once (at most one query per kind, however many entries there are).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Iterable

import nh3
from django.contrib.auth import get_user_model
from django.utils.html import linebreaks
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, gettext_lazy as _

from helpdesk.people.models import Team
from tickets.inline_images import IMAGE_ATTRIBUTES, INLINE_IMAGE_TYPES, content_id_key, images_resolved
from tickets.models import Attachment, ContactReason, CustomField, Message, MessageKind, Priority, Status, TicketType
from tickets.services.content import filter_attribute

_CHOICES = {"status": Status, "priority": Priority, "type": TicketType}
_LABELS: dict[str, Any] = {
    "status": _("Status"),
    "priority": _("Priority"),
    "type": _("Type"),
    "assignee": _("Assignee"),
    "team": _("Team"),
    "tags": _("Tags"),
    "subject": _("Subject"),
    "contact_reason": _("Contact reason"),
    "custom_fields": _("Custom fields"),
    "problem": _("Problem"),
    "requester": _("Requester"),
    "organization": _("Organization"),
    "merged_into": _("Merged into"),
    "language": _("Language"),
    "channel": _("Channel"),
}
_RELATIONS = {"assignee": "user", "team": "team", "contact_reason": "reason"}
# The tags markup keeps from a stored (already sanitised) body: a second allowlist on the way out.
_ALLOWED_TAGS = {"a", "b", "blockquote", "br", "code", "div", "em", "h1", "h2", "h3", "h4", "hr", "i", "img", "li",
                 "ol", "p", "pre", "s", "span", "strong", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr",
                 "u", "ul"}


@dataclass(frozen=True)
class ChangeLine:
    label: str
    before: str
    after: str


def _field_name(key: str) -> str:
    return key[:-3] if key.endswith("_id") else key


def _pairs(message: Message) -> Iterable[tuple[str, Any, Any]]:
    changes = message.changes if isinstance(message.changes, dict) else {}
    for key, value in changes.items():
        if isinstance(value, (list, tuple)) and len(value) == 2:
            yield str(key), value[0], value[1]
        elif isinstance(value, dict) and {"before", "after"} <= set(value):
            yield str(key), value["before"], value["after"]


def _as_id(value) -> int | None:
    """Entries usually store names already; a bare integer is an id to look up."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def change_lines(messages: list[Message]) -> dict[int, list[ChangeLine]]:
    """``{message id: [ChangeLine, ...]}`` for the system entries among ``messages``."""
    wanted: dict[str, set[int]] = {"user": set(), "team": set(), "reason": set()}
    system = [m for m in messages if m.kind == MessageKind.SYSTEM]
    for message in system:
        for key, before, after in _pairs(message):
            kind = _RELATIONS.get(_field_name(key))
            if kind:
                wanted[kind].update(i for i in (_as_id(before), _as_id(after)) if i is not None)
    names: dict[str, dict[int, str]] = {"user": {}, "team": {}, "reason": {}}
    if wanted["user"]:
        users = get_user_model().objects.filter(pk__in=wanted["user"]).only("id", "full_name", "email")
        names["user"] = {u.pk: u.get_full_name() or u.email for u in users}
    if wanted["team"]:
        names["team"] = dict(Team.objects.filter(pk__in=wanted["team"]).values_list("id", "name"))
    if wanted["reason"]:
        names["reason"] = {r.pk: str(r) for r in
                           ContactReason.objects.filter(pk__in=wanted["reason"]).select_related("parent")}
    custom_labels = {}
    if any(_field_name(k) == "custom_fields" or k.startswith("custom_fields.") for m in system for k, *_ in _pairs(m)):
        custom_labels = dict(CustomField.objects.values_list("key", "label"))

    def show(field: str, value) -> str:
        if value in (None, "", [], {}):
            return "—"
        if field in _CHOICES and isinstance(value, str):
            try:
                return str(_CHOICES[field](value).label)
            except ValueError:
                return value
        kind = _RELATIONS.get(field)
        if kind:
            ident = _as_id(value)
            if ident is not None:
                return names[kind].get(ident, gettext("(removed)"))
        if isinstance(value, bool):
            return gettext("Yes") if value else gettext("No")
        if isinstance(value, (list, tuple)):
            return ", ".join(str(v) for v in value) or "—"
        if isinstance(value, dict):
            return ", ".join(f"{k}: {v}" for k, v in value.items()) or "—"
        return str(value)

    result: dict[int, list[ChangeLine]] = {}
    for message in system:
        lines = []
        for key, before, after in _pairs(message):
            field = _field_name(key)
            if key.startswith("custom_fields."):
                sub = key.split(".", 1)[1]
                label = custom_labels.get(sub, sub)
            else:
                label = str(_LABELS.get(field, field.replace("_", " ").capitalize()))
            lines.append(ChangeLine(label=label, before=show(field, before), after=show(field, after)))
        result[message.pk] = lines
    return result


@dataclass(frozen=True)
class MessageContent:
    """What a conversation entry shows: the body, and the files listed under it (all of the
    message's files but the images the body shows)."""

    body: SafeString
    attachments: list[Attachment]


def message_content(message: Message, *, image_url: Callable[[Attachment], str]) -> MessageContent:
    """The stored HTML cleaned once more with an allowlist (links made safe), or the text with
    line breaks. Nothing a customer wrote can run in the agent's browser.

    An ``<img src="cid:X">`` shows the file of this same message whose Content-ID is X, at
    ``image_url(attachment)``, when that file is a raster image (``INLINE_IMAGE_TYPES``);
    otherwise its alt text stands in. Reads ``message.attachments.all()``: prefetch it for a
    list, so a page costs no query per message.
    """
    files = list(message.attachments.all())
    if not message.body_html:
        text = linebreaks(message.body_text, autoescape=True)
        return MessageContent(body=mark_safe(text), attachments=files)  # noqa: S308 - escaped by linebreaks
    images = {content_id_key(file.content_id): file for file in files
              if file.content_id and file.content_type in INLINE_IMAGE_TYPES}
    shown: set[int] = set()

    def src_for(content_id: str) -> str | None:
        image = images.get(content_id_key(content_id))
        if image is None:
            return None
        shown.add(image.pk)
        return image_url(image)

    cleaned = nh3.clean(message.body_html, tags=_ALLOWED_TAGS,
                        attributes={"a": {"href", "title"}, "img": set(IMAGE_ATTRIBUTES),
                                    "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}},
                        attribute_filter=filter_attribute, url_schemes={"http", "https", "mailto", "cid"},
                        link_rel="noopener noreferrer nofollow")
    body = images_resolved(cleaned, src_for)
    return MessageContent(body=mark_safe(body),  # noqa: S308 - allowlist-cleaned, image sources our own links
                          attachments=[file for file in files if file.pk not in shown])


def author_name(message: Message) -> str:
    if message.author_user_id and message.author_user is not None:
        return message.author_user.get_full_name() or message.author_user.email
    if message.author_contact_id and message.author_contact is not None:
        return str(message.author_contact)
    return gettext("System")


def duration(seconds: int | None) -> str:
    seconds = int(seconds or 0)
    hours, rest = divmod(seconds, 3600)
    minutes = rest // 60
    if hours:
        return gettext("%(h)d h %(m)02d min") % {"h": hours, "m": minutes}
    if minutes:
        return gettext("%(m)d min") % {"m": minutes}
    return gettext("%(s)d s") % {"s": seconds}
