"""Puts "Knowledge base" in the console's side navigation (called from ``KnowledgeConfig.ready()``;
import-light: the editor's views load with the URLconf)."""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def register_nav() -> None:
    from helpdesk.console import nav
    from helpdesk.tenancy.roles import Cap

    nav.register(key="kb", label=_("Knowledge base"), url_name="kb:tree", capability=Cap.KB_VIEW, icon="book",
                 order=30)
