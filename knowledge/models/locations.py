"""Service locations: stores, service centres and pick-up points, with their opening hours,
dated exceptions (holidays, special hours) and translations.

The name, description, services and directions note on ``Location`` are in the tenant's
default language; ``LocationTranslation`` holds the other locales (a missing one falls back
to the default). Nearest-first on PostgreSQL is a KNN scan of the GiST index
``location_tenant_geo`` on ``(tenant_id, cube(array[geo_x, geo_y, geo_z]))``, created by the
migration (the cube and btree_gist extensions are PostgreSQL's; the model state does not
know the index, which Django cannot express portably).
"""
from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from helpdesk.calendars.models import BusinessCalendar, validate_weekly_hours
from helpdesk.people.models import Team
from helpdesk.tenancy.models import TenantOwned, validate_timezone
from knowledge.locations.geo import unit_vector

__all__ = ["LocationKind", "Location", "LocationTranslation", "LocationException"]


class LocationKind(models.TextChoices):
    STORE = "store", _("Store")
    SERVICE_CENTRE = "service_centre", _("Service centre")
    PICKUP_POINT = "pickup_point", _("Pick-up point")


class Location(TenantOwned):
    """A real place customers can go to. Requests and chats started from its page go to its
    ``team`` and are answered in its ``calendar``'s business hours (``knowledge.locations.routing``)."""

    kind = models.CharField(_("kind"), max_length=20, choices=LocationKind.choices, default=LocationKind.STORE)
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("address in the help center"), max_length=80)
    address = models.TextField(_("street address"), blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    postcode = models.CharField(_("postcode"), max_length=20, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True, help_text=_("Two-letter code, such as TR."))
    latitude = models.FloatField(_("latitude"), validators=[MinValueValidator(-90), MaxValueValidator(90)])
    longitude = models.FloatField(_("longitude"), validators=[MinValueValidator(-180), MaxValueValidator(180)])
    # The point on the unit sphere (set from latitude and longitude on every save): the GiST index's key.
    geo_x = models.FloatField(editable=False, default=0)
    geo_y = models.FloatField(editable=False, default=0)
    geo_z = models.FloatField(editable=False, default=0)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.EmailField(_("email"), blank=True)
    timezone = models.CharField(_("time zone"), max_length=64, validators=[validate_timezone])
    opening_hours = models.JSONField(_("opening hours"), default=dict, blank=True,
                                     validators=[validate_weekly_hours])
    services = models.JSONField(_("services offered"), default=list, blank=True)
    description = models.TextField(_("description"), blank=True)
    directions_note = models.TextField(_("how to find us"), blank=True)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="locations",
                             verbose_name=_("team"), help_text=_("Requests and chats from this location's page "
                                                                 "go to this team."))
    calendar = models.ForeignKey(BusinessCalendar, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="locations", verbose_name=_("business hours"),
                                 help_text=_("The hours in which the team answers (the tenant's default "
                                             "when empty)."))
    is_active = models.BooleanField(_("shown in the help center"), default=True)
    # Folded name, city, postcode, address and services in every language (``geo.fold``).
    search_text = models.TextField(editable=False, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("service location")
        verbose_name_plural = _("service locations")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "slug"], name="location_unique_slug"),
            models.CheckConstraint(condition=models.Q(latitude__gte=-90, latitude__lte=90, longitude__gte=-180,
                                                      longitude__lte=180), name="location_coordinates_range"),
        ]
        indexes = [
            models.Index(fields=["tenant", "name", "id"], name="location_tenant_name"),
            # Embedded mode (SQLite) has no GiST: nearest-first prefilters a bounding box on this.
            models.Index(fields=["tenant", "latitude", "longitude"], name="location_tenant_latlng"),
        ]

    def __str__(self) -> str:
        return self.name

    def locate(self) -> None:
        """Derive the unit-sphere point from latitude and longitude (called by ``save``; call it
        before ``bulk_create``)."""
        self.geo_x, self.geo_y, self.geo_z = unit_vector(float(self.latitude), float(self.longitude))

    def save(self, *args, **kwargs):
        self.locate()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"latitude", "longitude"} & set(update_fields):
            kwargs["update_fields"] = list({*update_fields, "geo_x", "geo_y", "geo_z"})
        super().save(*args, **kwargs)


class LocationTranslation(TenantOwned):
    """A location's texts in one more locale (blank fields fall back to the default language)."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="translations")
    locale = models.CharField(_("language"), max_length=10)
    name = models.CharField(_("name"), max_length=200, blank=True)
    description = models.TextField(_("description"), blank=True)
    services = models.JSONField(_("services offered"), default=list, blank=True)
    directions_note = models.TextField(_("how to find us"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["locale"]
        verbose_name = _("location translation")
        verbose_name_plural = _("location translations")
        constraints = [models.UniqueConstraint(fields=["tenant", "location", "locale"],
                                               name="locationtranslation_unique")]

    def __str__(self) -> str:
        return f"{self.locale}: {self.name}"


class LocationException(TenantOwned):
    """A date whose hours differ from the week's: closed (a holiday) or special hours."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="exceptions")
    date = models.DateField(_("date"))
    closed = models.BooleanField(_("closed all day"), default=True)
    # When not closed: [["10:00", "14:00"], ...] replacing the weekday's hours.
    hours = models.JSONField(_("hours"), default=list, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True, help_text=_("Such as “Republic Day”."))
    note_translations = models.JSONField(_("note in other languages"), default=dict, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("opening-hours exception")
        verbose_name_plural = _("opening-hours exceptions")
        constraints = [models.UniqueConstraint(fields=["tenant", "location", "date"],
                                               name="locationexception_unique_date")]

    def __str__(self) -> str:
        return f"{self.date} {self.note}"
