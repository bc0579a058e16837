"""Django admin's app config, with the tenant-scoped site as ``admin.site``.

Every ``admin.py`` (``@admin.register``, ``admin.site.register``) therefore registers on
``HelpdeskAdminSite``, which refuses tenant-owned models without the scoped base. Kept
apart from ``admin_base`` because app configs are imported before models are ready.
"""
from django.contrib.admin.apps import AdminConfig


class HelpdeskAdminConfig(AdminConfig):
    default_site = "helpdesk.tenancy.admin_base.HelpdeskAdminSite"
