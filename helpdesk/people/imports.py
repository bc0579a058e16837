"""CSV imports of contacts and organizations: upload, check, then work through in batches.

``import_job_create`` reads and checks the file (encoding, delimiter, header) while the
person waits, stores it on an ``ImportJob`` and queues ``people.import_run`` after commit.
``import_job_run`` (the task's body) processes ``BATCH_SIZE`` rows per transaction and
saves the progress with each batch, so the page's progress bar moves and a worker that
dies resumes where the last batch ended. A bad row never stops the file: it is counted
and reported with its row number (the header is row 1, as in a spreadsheet).

Contacts: ``name, email, phone, organization, locale`` and any ``attr:<key>`` column (into
the contact's attributes); rows are matched to existing contacts by email, then phone
(upsert). Organizations: ``name, domains`` (separated by ``;``), ``notes``, ``auto_assign``;
matched by name.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from helpdesk.people import services
from helpdesk.people.models import (
    CONTACT_IMPORT_KINDS,
    ContactIdentity,
    IdentityKind,
    ImportJob,
    ImportKind,
    ImportStatus,
    Organization,
)
from helpdesk.tenancy.models import Tenant

BATCH_SIZE = 200
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 50_000
MAX_ERRORS = 1000
ATTR_PREFIX = "attr:"
CONTACT_COLUMNS = ("name", "email", "phone", "organization", "locale")
ORGANIZATION_COLUMNS = ("name", "domains", "notes", "auto_assign")
_ENCODINGS = ("utf-8-sig", "cp1254")  # cp1254: Turkish Excel's default "CSV" export
_TRUE = {"1", "true", "yes", "y", "evet", "e", "x"}
_FALSE = {"", "0", "false", "no", "n", "hayır", "hayir"}


class ImportRefused(ValidationError):
    """The file cannot be imported at all (no rows are read)."""


@dataclass(frozen=True)
class ImportHandler:
    """A kind of CSV that an app above the core imports through this machinery (jobs, batches,
    progress, row errors, the console's progress page), registered from its ``AppConfig.ready``.

    ``require(tenant=, actor=)`` raises PermissionDenied for who may not import it;
    ``prepare(tenant=)`` returns what every row needs (read once per run); ``row(tenant=,
    record=, context=)`` writes one row and returns "created" or "updated", or raises
    ValidationError naming the problem. ``extra_column(name)`` accepts columns beyond
    ``columns`` (such as ``name:tr``), described to the person by ``extra_hint``.
    """

    kind: str
    columns: tuple[str, ...]
    required: tuple[str, ...]
    require: Callable[..., None]
    row: Callable[..., str]
    prepare: Callable[..., Any] = lambda *, tenant: None
    extra_column: Callable[[str], bool] = lambda name: False
    extra_hint: Any = ""  # a (lazy) translatable text


_HANDLERS: dict[str, ImportHandler] = {}


def register_import_kind(handler: ImportHandler) -> None:
    if handler.kind not in ImportKind.values or handler.kind in CONTACT_IMPORT_KINDS:
        raise ValueError(f"import kind {handler.kind!r} is not an ImportKind of its own")
    _HANDLERS[handler.kind] = handler


# --- reading the file -------------------------------------------------------------------------


def decode_csv(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise ImportRefused({"file": [_("The file is larger than %(mb)d MB; split it into smaller files.")
                                      % {"mb": MAX_BYTES // (1024 * 1024)}]})
    if b"\x00" in data[:4096]:
        raise ImportRefused({"file": [_("This is not a CSV file (save the spreadsheet as CSV).")]})
    for encoding in _ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportRefused({"file": [_("The file's text encoding was not recognised; save it as UTF-8.")]})


def _delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def read_rows(text: str) -> tuple[list[str], list[list[str]]]:
    """The header (see ``_column``) and the rows."""
    first_line = text.split("\n", 1)[0]
    try:
        reader = csv.reader(io.StringIO(text), delimiter=_delimiter(first_line))
        rows = [row for row in reader]
    except csv.Error as exc:
        raise ImportRefused({"file": [_("The CSV could not be read: %(error)s") % {"error": exc}]}) from None
    if not rows:
        raise ImportRefused({"file": [_("The file is empty.")]})
    return [_column(c) for c in rows[0]], rows[1:]


def _column(name: str) -> str:
    """Known columns match in any case; ``attr:<key>`` keeps the key as written."""
    name = name.strip()
    if name.lower().startswith(ATTR_PREFIX):
        return ATTR_PREFIX + name[len(ATTR_PREFIX):].strip()
    return name.lower()


def _check_registered_header(handler: ImportHandler, header: list[str]) -> None:
    unknown = [c for c in header if c not in handler.columns and not handler.extra_column(c)]
    if unknown:
        raise ImportRefused({"file": [_("Unknown columns: %(unknown)s. Use: %(known)s.") % {
            "unknown": ", ".join(unknown) or "“”",
            "known": ", ".join([*handler.columns, *([str(handler.extra_hint)] if handler.extra_hint else [])])}]})
    duplicates = sorted({c for c in header if header.count(c) > 1})
    if duplicates:
        raise ImportRefused({"file": [_("Columns named twice: %(columns)s.") % {"columns": ", ".join(duplicates)}]})
    missing = [c for c in handler.required if c not in header]
    if missing:
        raise ImportRefused({"file": [_("The file needs these columns: %(columns)s.") % {
            "columns": ", ".join(missing)}]})


def check_header(kind: str, header: list[str]) -> None:
    if kind in _HANDLERS:
        return _check_registered_header(_HANDLERS[kind], header)
    known = CONTACT_COLUMNS if kind == ImportKind.CONTACTS else ORGANIZATION_COLUMNS
    unknown = [c for c in header if c not in known and not (kind == ImportKind.CONTACTS and c.startswith(ATTR_PREFIX)
                                                            and len(c) > len(ATTR_PREFIX))]
    if unknown:
        values = {"unknown": ", ".join(unknown) or "“”", "known": ", ".join(known)}
        message = (_("Unknown columns: %(unknown)s. Use: %(known)s and attr:<name>.") if kind == ImportKind.CONTACTS
                   else _("Unknown columns: %(unknown)s. Use: %(known)s."))
        raise ImportRefused({"file": [message % values]})
    duplicates = sorted({c for c in header if header.count(c) > 1})
    if duplicates:
        raise ImportRefused({"file": [_("Columns named twice: %(columns)s.") % {"columns": ", ".join(duplicates)}]})
    if kind == ImportKind.CONTACTS and not {"email", "phone"} & set(header):
        raise ImportRefused({"file": [_("A contacts file needs an “email” or a “phone” column.")]})
    if kind == ImportKind.ORGANIZATIONS and "name" not in header:
        raise ImportRefused({"file": [_("An organizations file needs a “name” column.")]})


def _data_rows(job: ImportJob) -> tuple[list[str], list[list[str]]]:
    header, rows = read_rows(job.source)
    return header, [row for row in rows if any(cell.strip() for cell in row)]


@transaction.atomic
def import_job_create(*, tenant: Tenant, kind: str, data: bytes, filename: str = "", actor: Any = None) -> ImportJob:
    """Check and store an uploaded CSV and queue its processing; a file that cannot be
    imported is refused here, naming the problem, and nothing is stored."""
    handler = _HANDLERS.get(kind)
    (handler.require if handler else services.require_contacts_edit)(tenant=tenant, actor=actor)
    if kind not in ImportKind.values or (kind not in CONTACT_IMPORT_KINDS and handler is None):
        raise ImportRefused({"kind": [_("Choose one of: %(values)s.") % {"values": ", ".join(ImportKind.values)}]})
    text = decode_csv(data)
    job = ImportJob(tenant=tenant, kind=kind, filename=(filename or "")[:255], source=text,
                    created_by=actor if getattr(actor, "is_authenticated", False) and actor.pk else None)
    header, rows = _data_rows(job)
    check_header(kind, header)
    if not rows:
        raise ImportRefused({"file": [_("The file has a header but no rows.")]})
    if len(rows) > MAX_ROWS:
        raise ImportRefused({"file": [_("The file has more than %(max)d rows; split it into smaller files.")
                                      % {"max": MAX_ROWS}]})
    job.total_rows = len(rows)
    job.save()
    from helpdesk.audit.services import audit_record

    audit_record(tenant=tenant, action="import.created", actor=actor, obj=job,
                 after={"kind": kind, "filename": job.filename, "rows": job.total_rows})
    from helpdesk.people.tasks import run_import

    transaction.on_commit(lambda: run_import.delay(tenant.pk, job.pk))
    return job


# --- processing -----------------------------------------------------------------------------------


def _cell(record: dict, name: str) -> str:
    return (record.get(name) or "").strip()


def _error_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return " ".join(f"{key}: {message}" if key not in ("__all__", "value") else message
                            for key, messages in exc.message_dict.items() for message in messages)
        return " ".join(exc.messages)
    return str(exc)


def _contact_row(*, tenant: Tenant, record: dict, orgs: dict[str, Organization]) -> str:
    """Create or update one contact; returns "created" or "updated"."""
    wanted: list[tuple[str, str]] = []
    for column, kind in (("email", IdentityKind.EMAIL), ("phone", IdentityKind.PHONE)):
        raw = _cell(record, column)
        if raw:
            try:
                wanted.append(services.clean_identity(kind, raw)[0::2])
            except ValidationError:
                raise ValidationError(_("“%(value)s” is not a valid %(column)s.") % {
                    "value": raw, "column": column}) from None
    if not wanted:
        raise ValidationError(_("The row has neither an email nor a phone number."))
    owners = {}
    for kind, value in wanted:
        identity = (ContactIdentity.objects.filter(tenant=tenant, kind=kind, provider="", value=value)
                    .select_related("contact").first())
        if identity is not None:
            owners[(kind, value)] = identity.contact
    contacts = {c.pk: c for c in owners.values()}
    if len(contacts) > 1:
        a, b = list(contacts.values())[:2]
        raise ValidationError(_("The email and the phone number belong to two different contacts (#%(a)s and "
                                "#%(b)s); merge them first.") % {"a": a.pk, "b": b.pk})
    fields: dict[str, Any] = {}
    if _cell(record, "name"):
        fields["name"] = _cell(record, "name")
    if _cell(record, "locale"):
        fields["locale"] = _cell(record, "locale")
    org_name = _cell(record, "organization")
    if org_name:
        org = orgs.get(org_name.lower())
        if org is None:
            raise ValidationError(_("No organization named “%(name)s” (import organizations first).")
                                  % {"name": org_name})
        fields["organization"] = org
    attributes = {key[len(ATTR_PREFIX):].strip(): value.strip() for key, value in record.items()
                  if key.startswith(ATTR_PREFIX) and value is not None and value.strip()}
    if attributes:
        fields["attributes"] = attributes
    if contacts:
        contact = next(iter(contacts.values()))
        if fields:
            services.contact_update(contact=contact, **fields)
        for kind, value in wanted:
            if (kind, value) not in owners:
                services.identity_add(contact=contact, kind=kind, value=value)
        return "updated"
    services.contact_create(tenant=tenant, identities=[{"kind": k, "value": v} for k, v in wanted], **fields)
    return "created"


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValidationError(_("“%(value)s” is not yes or no.") % {"value": value})


def _organization_row(*, tenant: Tenant, record: dict, orgs: dict[str, Organization]) -> str:
    name = " ".join(_cell(record, "name").split())
    if not name:
        raise ValidationError(_("The row has no name."))
    fields: dict[str, Any] = {}
    if "domains" in record:
        fields["domains"] = [d for d in _cell(record, "domains").split(";") if d.strip()]
    if _cell(record, "notes"):
        fields["notes"] = _cell(record, "notes")
    if _cell(record, "auto_assign"):
        fields["auto_assign"] = _bool(_cell(record, "auto_assign"))
    existing = orgs.get(name.lower())
    if existing is not None:
        orgs[name.lower()] = services.organization_update(organization=existing, **fields)
        return "updated"
    orgs[name.lower()] = services.organization_create(tenant=tenant, name=name, **fields)
    return "created"


def _organizations_by_name(tenant: Tenant) -> dict[str, Organization]:
    return {org.name.lower(): org for org in Organization.objects.filter(tenant=tenant)}


def import_job_run(*, tenant: Tenant, job_id: int) -> ImportJob | None:
    """Work through the job's remaining rows, one transaction per batch. Idempotent: a
    finished job is left alone; a job whose worker died resumes after the last saved batch."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update(skip_locked=True).filter(tenant=tenant, pk=job_id).first()
        if job is None or job.is_finished:
            return job  # gone, finished, or being worked on by another worker right now
        if job.status == ImportStatus.QUEUED:
            job.status = ImportStatus.RUNNING
            job.started_at = timezone.now()
            job.save(update_fields=["status", "started_at"])
    header, rows = _data_rows(job)
    registered = _HANDLERS.get(job.kind)
    if registered is not None:
        context = registered.prepare(tenant=tenant)
        orgs: dict[str, Organization] = {}

        def handler(*, tenant: Tenant, record: dict, orgs: dict) -> str:
            return registered.row(tenant=tenant, record=record, context=context)
    else:
        orgs = _organizations_by_name(tenant)
        handler = _contact_row if job.kind == ImportKind.CONTACTS else _organization_row
    while job.processed_rows < len(rows):
        with transaction.atomic():
            # The lock makes a second worker on the same job skip rather than repeat rows.
            job = ImportJob.objects.select_for_update(skip_locked=True).filter(tenant=tenant, pk=job_id).first()
            if job is None or job.is_finished:
                return job
            start = job.processed_rows
            for index in range(start, min(start + BATCH_SIZE, len(rows))):
                record = dict(zip(header, rows[index], strict=False))
                try:
                    with transaction.atomic():
                        outcome = handler(tenant=tenant, record=record, orgs=orgs)
                except (ValidationError, PermissionDenied) as exc:
                    job.failed_count += 1
                    if len(job.errors) < MAX_ERRORS:
                        job.errors.append({"row": index + 2, "message": _error_text(exc)[:500]})
                else:
                    if outcome == "created":
                        job.created_count += 1
                    else:
                        job.updated_count += 1
                job.processed_rows = index + 1
            if job.processed_rows >= len(rows):
                job.status = ImportStatus.COMPLETED
                job.finished_at = timezone.now()
            job.save(update_fields=["processed_rows", "created_count", "updated_count", "failed_count", "errors",
                                    "status", "finished_at"])
    if job.status != ImportStatus.COMPLETED:
        ImportJob.objects.filter(tenant=tenant, pk=job.pk).update(status=ImportStatus.COMPLETED,
                                                                  finished_at=timezone.now())
        job.refresh_from_db()
    return job


def import_job_fail(*, tenant: Tenant, job_id: int, reason: str) -> None:
    """Mark a job failed (the task gave up on it)."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().filter(tenant=tenant, pk=job_id).first()
        if job is None or job.is_finished:
            return
        job.status = ImportStatus.FAILED
        job.finished_at = timezone.now()
        job.errors = [*job.errors, {"row": 0, "message": reason[:500]}]
        job.save(update_fields=["status", "finished_at", "errors"])


def import_job_status(job: ImportJob) -> dict:
    """The job's progress as the status endpoints show it."""
    return {
        "id": job.pk, "kind": job.kind, "status": job.status, "filename": job.filename,
        "total_rows": job.total_rows, "processed_rows": job.processed_rows, "created": job.created_count,
        "updated": job.updated_count, "failed": job.failed_count, "percent": job.percent,
        "errors": job.errors, "created_at": job.created_at, "started_at": job.started_at,
        "finished_at": job.finished_at, "finished": job.is_finished,
    }

