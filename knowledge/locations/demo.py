"""The demo tenant's service locations: a few stores, a service centre and a pick-up point in
İstanbul, Ankara and İzmir, in English and Turkish, with a holiday; requests sent from their
pages go to the Support team (the Ankara service centre's to Billing, for warranty claims)."""
from __future__ import annotations

import datetime as dt

from django.utils import timezone

from helpdesk.tenancy.demo import DemoTenant, register_demo_seeder

WEEKDAYS_10_20 = {d: [["10:00", "20:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat")}
SERVICE_HOURS = {d: [["09:00", "12:30"], ["13:30", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
ALWAYS = {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}

LOCATIONS = [
    # (values, Turkish texts)
    ({"kind": "store", "name": "Kadıköy Store", "address": "Moda Caddesi 112", "city": "İstanbul",
      "postcode": "34710", "country": "TR", "latitude": 40.9877, "longitude": 29.0266, "phone": "+90 216 555 01 10",
      "opening_hours": WEEKDAYS_10_20, "services": ["Returns", "Click & collect", "Device set-up"],
      "description": "Our first store, five minutes from the Kadıköy ferry pier.",
      "directions_note": "Walk up Moda Caddesi from the pier; we are opposite the park."},
     {"name": "Kadıköy Mağazası", "services": ["İade", "Tıkla ve al", "Cihaz kurulumu"],
      "description": "İlk mağazamız, Kadıköy iskelesine beş dakika.",
      "directions_note": "İskeleden Moda Caddesi'ne çıkın; parkın karşısındayız."}),
    ({"kind": "store", "name": "Nişantaşı Store", "address": "Abdi İpekçi Caddesi 40", "city": "İstanbul",
      "postcode": "34367", "country": "TR", "latitude": 41.0522, "longitude": 28.9937, "phone": "+90 212 555 02 20",
      "opening_hours": WEEKDAYS_10_20, "services": ["Returns", "Click & collect"]},
     {"name": "Nişantaşı Mağazası", "services": ["İade", "Tıkla ve al"]}),
    ({"kind": "service_centre", "name": "Ankara Service Centre", "address": "Tunalı Hilmi Caddesi 88",
      "city": "Ankara", "postcode": "06680", "country": "TR", "latitude": 39.9066, "longitude": 32.8597,
      "phone": "+90 312 555 03 30", "opening_hours": SERVICE_HOURS, "services": ["Repairs", "Warranty claims"],
      "description": "Repairs while you wait for most phones; other devices in three business days."},
     {"name": "Ankara Servis Merkezi", "services": ["Tamir", "Garanti başvurusu"],
      "description": "Çoğu telefon için beklerken tamir; diğer cihazlar üç iş gününde."}),
    ({"kind": "pickup_point", "name": "İzmir Alsancak Pick-up Point", "address": "Kıbrıs Şehitleri Caddesi 5",
      "city": "İzmir", "postcode": "35220", "country": "TR", "latitude": 38.4375, "longitude": 27.1428,
      "opening_hours": ALWAYS, "services": ["Parcel lockers"]},
     {"name": "İzmir Alsancak Teslim Noktası", "services": ["Akıllı kargo dolapları"]}),
]


@register_demo_seeder(order=160)
def seed_locations(demo: DemoTenant) -> None:
    from knowledge.locations.services import location_create

    tenant = demo.tenant
    owner = demo.user("owner@demo.test")
    holiday = timezone.now().date() + dt.timedelta(days=10)
    for values, turkish in LOCATIONS:
        exceptions = []
        if values["kind"] == "store":
            exceptions = [{"date": holiday.isoformat(), "closed": True, "note": "Staff day",
                           "note_translations": {"tr": "Personel günü"}}]
        team = demo.teams["Billing" if values["kind"] == "service_centre" else "Support"]
        location_create(tenant=tenant, actor=owner, values={**values, "team": team},
                        translations=[{"locale": "tr", **turkish}], exceptions=exceptions)
    demo.notes.append(f"{len(LOCATIONS)} service locations at /hc/locations/")
