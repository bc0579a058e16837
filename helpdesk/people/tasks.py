"""Celery tasks of people: thin, named, tenant id first, idempotent."""
from __future__ import annotations

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import translation
from django.utils.translation import gettext as _

from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.models import Tenant

logger = logging.getLogger(__name__)

_RETRY = {"autoretry_for": (OperationalError, InterfaceError), "retry_backoff": 5, "retry_backoff_max": 300,
          "retry_jitter": True, "max_retries": 5}


@shared_task(name="people.import_run", ignore_result=True, bind=True, **_RETRY)
def run_import(self, tenant_id: int, job_id: int) -> None:
    """Process an uploaded CSV. A retry resumes after the last saved batch; a job that
    keeps failing on the database is marked failed once the retries run out."""
    from helpdesk.people.imports import import_job_fail, import_job_run

    tenant = Tenant.objects.filter(pk=tenant_id, is_active=True).first()
    if tenant is None:
        return
    with tenant_scope(tenant):
        try:
            import_job_run(tenant=tenant, job_id=job_id)
        except (OperationalError, InterfaceError):
            if self.request.retries < _RETRY["max_retries"]:
                raise
            logger.exception("import %s of tenant %s failed", job_id, tenant_id)
            with translation.override(tenant.default_locale):
                reason = _("The import stopped: the database was unavailable. Upload the file again.")
            import_job_fail(tenant=tenant, job_id=job_id, reason=reason)
        except Exception:
            logger.exception("import %s of tenant %s failed", job_id, tenant_id)
            with translation.override(tenant.default_locale):
                reason = _("The import stopped because of an unexpected error. Upload the file again.")
            import_job_fail(tenant=tenant, job_id=job_id, reason=reason)
