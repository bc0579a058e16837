"""A small offline table of city centres, for "nearest to me" typed as a city the tenant has no
location in. Nothing is asked of an outside service at run time. Keys are folded names
(``geo.fold``); several names may point at one place. Coordinates are city centres (±2 km).
"""
from __future__ import annotations

# (latitude, longitude, name as shown)
PLACES: dict[str, tuple[float, float, str]] = {}

_TABLE = [
    # Türkiye
    (("istanbul", "constantinople"), 41.0082, 28.9784, "İstanbul"),
    (("ankara",), 39.9334, 32.8597, "Ankara"),
    (("izmir", "smyrna"), 38.4237, 27.1428, "İzmir"),
    (("bursa",), 40.1885, 29.0610, "Bursa"),
    (("antalya",), 36.8969, 30.7133, "Antalya"),
    (("adana",), 37.0000, 35.3213, "Adana"),
    (("konya",), 37.8746, 32.4932, "Konya"),
    (("gaziantep", "antep"), 37.0662, 37.3833, "Gaziantep"),
    (("sanliurfa", "urfa"), 37.1591, 38.7969, "Şanlıurfa"),
    (("kocaeli", "izmit"), 40.7654, 29.9408, "Kocaeli"),
    (("mersin", "icel"), 36.8121, 34.6415, "Mersin"),
    (("diyarbakir",), 37.9144, 40.2306, "Diyarbakır"),
    (("hatay", "antakya"), 36.2021, 36.1600, "Hatay"),
    (("manisa",), 38.6191, 27.4289, "Manisa"),
    (("kayseri",), 38.7205, 35.4826, "Kayseri"),
    (("samsun",), 41.2867, 36.3300, "Samsun"),
    (("balikesir",), 39.6484, 27.8826, "Balıkesir"),
    (("kahramanmaras", "maras"), 37.5858, 36.9371, "Kahramanmaraş"),
    (("van",), 38.5012, 43.3730, "Van"),
    (("aydin",), 37.8560, 27.8416, "Aydın"),
    (("denizli",), 37.7765, 29.0864, "Denizli"),
    (("sakarya", "adapazari"), 40.7569, 30.3781, "Sakarya"),
    (("tekirdag",), 40.9780, 27.5110, "Tekirdağ"),
    (("mugla",), 37.2153, 28.3636, "Muğla"),
    (("bodrum",), 37.0344, 27.4305, "Bodrum"),
    (("eskisehir",), 39.7767, 30.5206, "Eskişehir"),
    (("mardin",), 37.3212, 40.7245, "Mardin"),
    (("malatya",), 38.3552, 38.3095, "Malatya"),
    (("trabzon",), 41.0015, 39.7178, "Trabzon"),
    (("erzurum",), 39.9043, 41.2679, "Erzurum"),
    (("edirne",), 41.6771, 26.5557, "Edirne"),
    (("canakkale",), 40.1553, 26.4142, "Çanakkale"),
    # Europe and beyond
    (("london", "londra"), 51.5074, -0.1278, "London"),
    (("paris",), 48.8566, 2.3522, "Paris"),
    (("berlin",), 52.5200, 13.4050, "Berlin"),
    (("madrid",), 40.4168, -3.7038, "Madrid"),
    (("rome", "roma"), 41.9028, 12.4964, "Roma"),
    (("amsterdam",), 52.3676, 4.9041, "Amsterdam"),
    (("brussels", "bruxelles", "brussel", "bruksel"), 50.8503, 4.3517, "Brussels"),
    (("vienna", "wien", "viyana"), 48.2082, 16.3738, "Wien"),
    (("munich", "munchen", "munih"), 48.1351, 11.5820, "München"),
    (("hamburg",), 53.5511, 9.9937, "Hamburg"),
    (("frankfurt",), 50.1109, 8.6821, "Frankfurt"),
    (("cologne", "koln", "koeln"), 50.9375, 6.9603, "Köln"),
    (("zurich", "zuerich"), 47.3769, 8.5417, "Zürich"),
    (("milan", "milano"), 45.4642, 9.1900, "Milano"),
    (("barcelona",), 41.3851, 2.1734, "Barcelona"),
    (("lisbon", "lisboa", "lizbon"), 38.7223, -9.1393, "Lisboa"),
    (("dublin",), 53.3498, -6.2603, "Dublin"),
    (("copenhagen", "kobenhavn", "kopenhag"), 55.6761, 12.5683, "København"),
    (("stockholm",), 59.3293, 18.0686, "Stockholm"),
    (("oslo",), 59.9139, 10.7522, "Oslo"),
    (("helsinki",), 60.1699, 24.9384, "Helsinki"),
    (("warsaw", "warszawa", "varsova"), 52.2297, 21.0122, "Warszawa"),
    (("prague", "praha", "prag"), 50.0755, 14.4378, "Praha"),
    (("budapest", "budapeste"), 47.4979, 19.0402, "Budapest"),
    (("athens", "athina", "atina"), 37.9838, 23.7275, "Athens"),
    (("sofia",), 42.6977, 23.3219, "Sofia"),
    (("bucharest", "bucuresti", "bukres"), 44.4268, 26.1025, "București"),
    (("baku", "baki", "bakü"), 40.4093, 49.8671, "Baku"),
    (("tbilisi", "tiflis"), 41.7151, 44.8271, "Tbilisi"),
    (("new york", "new york city", "nyc"), 40.7128, -74.0060, "New York"),
    (("los angeles",), 34.0522, -118.2437, "Los Angeles"),
    (("chicago",), 41.8781, -87.6298, "Chicago"),
    (("toronto",), 43.6532, -79.3832, "Toronto"),
    (("dubai",), 25.2048, 55.2708, "Dubai"),
    (("tokyo",), 35.6762, 139.6503, "Tokyo"),
    (("sydney",), -33.8688, 151.2093, "Sydney"),
]


def _load() -> None:
    from knowledge.locations.geo import fold

    for names, lat, lng, shown in _TABLE:
        for name in (*names, shown):
            PLACES.setdefault(fold(name), (lat, lng, shown))


_load()
