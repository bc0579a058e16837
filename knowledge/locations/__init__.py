"""Service locations: the company's real places (stores, service centres, pick-up points).

``geo`` and ``hours`` are pure functions (no ORM); ``geocode`` turns a typed city or postcode
into a point; ``selectors`` read (nearest first on a GiST index on PostgreSQL); ``services``
write; ``imports`` is the CSV row handler of the shared import machinery; ``routing`` is what
a request or a chat started from a location's page uses (its team and business hours).
"""


def register() -> None:
    """From ``KnowledgeConfig.ready()``: event types, the CSV import kind, the console's side
    navigation entry (idempotent)."""
    from django.utils.translation import gettext_lazy as _

    from helpdesk.console import nav
    from helpdesk.tenancy.roles import Cap
    from knowledge.locations import demo, imports, services  # noqa: F401 - demo registers its seeder

    services.register()
    imports.register()
    nav.register(key="locations", label=_("Locations"), url_name="kb:locations", capability=Cap.KB_VIEW,
                 icon="home", order=460)
