#!/usr/bin/env python
"""Help-center search at scale: p50/p95 of ``kb_search`` and ``kb_autocomplete`` (prints figures).

In a throwaway PostgreSQL database, one tenant gets N articles (default 20,000), each written
in English and Turkish (2N published translations), generated from topic vocabularies and
sentence templates so that words repeat as they do in a real help center: a few very common
words ("order", "sipariş", "account"), many ordinary ones, rare product names. About 8 % of the
articles are internal and 4 % for specific organizations (the visibility filter has work to
do), their votes and publication dates vary. A second tenant with a tenth of the articles
shares the tables. The rows are inserted in bulk and indexed with the real indexer
(``knowledge.search.indexing.tenant_reindex``, timed), then the searches run one after another
the way the help center calls them (``record=True``: the SearchEvent insert is inside the
figure), each in its own transaction as a request is.

The query mix: common words, rare words, two-word questions, typos, Turkish suffixed forms,
queries that find nothing, in both languages, as an anonymous visitor and (a fifth) as an
agent. Autocomplete: prefixes of titles as they are typed. Then the same tenant gets 5,000
service locations (``--locations``; bench/kb_locations.py's generator, the API and the plan are
there) and the 20 nearest to random points are timed.

    DATABASE_URL=postgresql://helpdesk@127.0.0.1:5432/helpdesk REDIS_URL=redis://127.0.0.1:6379/7 \\
        python bench/kb_search.py [--articles 20000] [-n 600] [--explain] [--locations 5000]

Target (issue 5): search p95 <= 30 ms over 20,000 articles. The script prints; it does not judge.
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import describe, django_setup, throwaway_database  # noqa: E402

# --- text generation ------------------------------------------------------------------------

EN = {
    "topics": {
        "orders": (["order", "purchase", "basket", "checkout", "order number", "confirmation"],
                   ["place", "change", "cancel", "find", "combine", "split"]),
        "shipping": (["parcel", "package", "delivery", "courier", "tracking number", "shipment", "pick-up point"],
                     ["track", "redirect", "receive", "collect", "reschedule", "ship"]),
        "returns": (["return", "refund", "exchange", "return label", "store credit", "replacement"],
                    ["return", "refund", "exchange", "send back", "request", "approve"]),
        "payments": (["payment", "card", "invoice", "instalment", "bank transfer", "receipt", "voucher"],
                     ["pay", "charge", "update", "download", "split", "verify"]),
        "account": (["account", "password", "email address", "profile", "two-factor code", "newsletter"],
                    ["reset", "change", "delete", "verify", "sign in to", "update"]),
        "products": (["warranty", "manual", "battery", "charger", "screen", "spare part", "firmware"],
                     ["register", "repair", "update", "replace", "install", "charge"]),
        "stores": (["store", "opening hours", "service centre", "appointment", "stock", "loyalty card"],
                   ["visit", "book", "check", "find", "reserve", "use"]),
    },
    "times": ["within two business days", "the same day", "before noon", "at any time", "after 14 days",
              "within an hour", "on weekdays", "during the sale", "once it ships", "right away"],
    "filler": """please note that you can also our team will help if something goes wrong most customers find
        the easiest way is through the app or the website in some cases it may take longer than usual we
        recommend checking your email first and keeping the receipt for your records contact us when you need
        more details about this topic the steps below explain everything clearly""".split(),
    "titles": ["How do I {verb} my {noun}?", "{Noun} questions", "Can I {verb} a {noun}?",
               "Why can't I {verb} my {noun}?", "{Noun}: what you need to know", "When will my {noun} arrive?",
               "{Noun} and {noun2}", "Problems with your {noun}", "{Verb} your {noun} in a few steps"],
    "sentences": ["You can {verb} your {noun} {time}.", "To {verb} a {noun}, open {place} and choose {action}.",
                  "If your {noun} is {state}, {verb} it {time}.", "We {verb} every {noun} {time}.",
                  "The {noun} you {verb} appears in {place}.", "Your {noun2} is linked to the {noun}.",
                  "Customers with a {product} can {verb} the {noun} {time}.",
                  "A {noun} can only be {state} once.", "Questions about the {noun2}? Our team answers {time}."],
    "places": ["My account", "the app", "your order history", "the settings page", "the help center",
               "your confirmation email", "the store", "the checkout"],
    "actions": ["Edit", "Start a return", "Track", "Download", "Manage", "Change", "Cancel"],
    "states": ["late", "damaged", "missing", "incomplete", "blocked", "expired", "pending", "confirmed"],
}
TR = {
    "topics": {
        "orders": (["sipariş", "siparişiniz", "siparişinizi", "siparişler", "sepet", "ödeme adımı", "sipariş numarası"],
                   ["verebilirsiniz", "değiştirebilirsiniz", "iptal edebilirsiniz", "bulabilirsiniz", "birleştirebilirsiniz"]),
        "shipping": (["kargo", "kargonuz", "paket", "teslimat", "kargo takip numarası", "gönderi", "teslim noktası"],
                     ["takip edebilirsiniz", "yönlendirebilirsiniz", "teslim alabilirsiniz", "erteleyebilirsiniz"]),
        "returns": (["iade", "iadeniz", "para iadesi", "değişim", "iade etiketi", "iade kargosu", "yedek ürün"],
                    ["iade edebilirsiniz", "talep edebilirsiniz", "geri gönderebilirsiniz", "değiştirebilirsiniz"]),
        "payments": (["ödeme", "ödemeniz", "kart", "fatura", "faturanız", "taksit", "havale", "makbuz", "hediye çeki"],
                     ["ödeyebilirsiniz", "güncelleyebilirsiniz", "indirebilirsiniz", "bölebilirsiniz"]),
        "account": (["hesap", "hesabınız", "şifre", "şifreniz", "e-posta adresi", "profil", "doğrulama kodu"],
                    ["sıfırlayabilirsiniz", "değiştirebilirsiniz", "silebilirsiniz", "doğrulayabilirsiniz"]),
        "products": (["garanti", "kullanım kılavuzu", "pil", "şarj aleti", "ekran", "yedek parça", "yazılım"],
                     ["kaydedebilirsiniz", "onarabilirsiniz", "güncelleyebilirsiniz", "değiştirebilirsiniz"]),
        "stores": (["mağaza", "çalışma saatleri", "servis merkezi", "randevu", "stok", "sadakat kartı", "ışık"],
                   ["ziyaret edebilirsiniz", "alabilirsiniz", "kontrol edebilirsiniz", "ayırtabilirsiniz"]),
    },
    "times": ["iki iş günü içinde", "aynı gün", "öğleden önce", "her zaman", "14 gün sonra", "bir saat içinde",
              "hafta içi", "kampanya süresince", "kargoya verildiğinde", "hemen"],
    "filler": """lütfen unutmayın ayrıca ekibimiz size yardımcı olur bir sorun olursa müşterilerimizin çoğu
        en kolay yolu uygulama veya web sitesi üzerinden bulur bazı durumlarda bu işlem daha uzun sürebilir
        önce e-postanızı kontrol etmenizi ve makbuzu saklamanızı öneririz daha fazla bilgi için bize ulaşın
        aşağıdaki adımlar her şeyi açıkça anlatır""".split(),
    "titles": ["{Noun} nasıl {verb}?", "{Noun} hakkında sorular", "{Noun} ve {noun2}", "{Noun}: bilmeniz gerekenler",
               "{Noun} ne zaman gelir?", "{Noun} ile ilgili sorunlar", "{Noun} işlemleri", "{Noun} rehberi"],
    "sentences": ["{Noun} bilgilerinizi {time} {verb}.", "{Noun} için {place} bölümünü açın ve {action} seçin.",
                  "{Noun} {state} ise {time} bize yazın.", "Her {noun} {time} hazırlanır.",
                  "{Noun2} bilgileri {place} bölümünde görünür.", "{Product} sahibi müşteriler {noun} için {time} başvurabilir.",
                  "Bir {noun} yalnızca bir kez {state} olabilir.", "{Noun2} ile ilgili sorularınızı ekibimiz {time} yanıtlar."],
    "places": ["Hesabım", "uygulama", "sipariş geçmişi", "ayarlar", "yardım merkezi", "onay e-postası", "mağaza"],
    "actions": ["Düzenle", "İade başlat", "Takip et", "İndir", "Yönet", "Değiştir", "İptal et"],
    "states": ["gecikmiş", "hasarlı", "eksik", "engellenmiş", "süresi dolmuş", "beklemede", "onaylanmış"],
}
BRANDS = ["Zentrix", "Voltara", "Kumo", "Aurelle", "Brixo", "Nordlys", "Tavira", "Quillon", "Mekano", "Solvé",
          "Ilgaz", "Çamlıca", "Pirlanta", "Yıldız", "Ergo", "Lumio", "Fjord", "Karat", "Orbis", "Vento"]


SYLLABLES = ["ka", "ren", "tor", "mi", "lo", "san", "ver", "da", "ni", "mar", "tel", "zo", "bri", "ul", "fen",
             "gra", "ho", "pi", "sta", "qu", "el", "dor", "vi", "ne", "ost", "ram", "cu", "yel", "bas", "ti"]


def rare_words(count: int, seed: int) -> list[str]:
    """Made-up words (model names, places, features) that give the help center a vocabulary of
    tens of thousands of words, each in a handful of articles, as real ones have."""
    rng = random.Random(seed)
    found: set[str] = set()
    while len(found) < count:
        found.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(3, 4))))
    return sorted(found)


RARE = rare_words(20000, 11)


def product(rng: random.Random) -> str:
    return f"{rng.choice(BRANDS)} {rng.choice('ABCDEFGHKLMNPRSTVXZ')}{rng.randint(10, 990)}"


def cap(text: str, lang: str) -> str:
    if not text:
        return text
    first = text[0]
    if lang == "tr":
        first = {"i": "İ", "ı": "I"}.get(first, first.upper())
    else:
        first = first.upper()
    return first + text[1:]


def article_text(rng: random.Random, lang: str, topic: str, extra_topic: str) -> tuple[str, str]:
    words = EN if lang == "en" else TR
    nouns, verbs = words["topics"][topic]
    nouns2, _v2 = words["topics"][extra_topic]
    item = product(rng)
    values = dict(noun=rng.choice(nouns), noun2=rng.choice(nouns2), verb=rng.choice(verbs))
    values.update(Noun=cap(values["noun"], lang), Verb=cap(values["verb"], lang))
    title = rng.choice(words["titles"]).format(**values)
    if rng.random() < 0.3:
        title += f" ({item})"
    sentences = []
    for _ in range(rng.randint(10, 28)):
        n1, n2 = rng.choice(nouns), rng.choice(nouns2 + nouns)
        filled = rng.choice(words["sentences"]).format(
            noun=n1, Noun=cap(n1, lang), noun2=n2, Noun2=cap(n2, lang), verb=rng.choice(verbs),
            time=rng.choice(words["times"]), place=rng.choice(words["places"]), action=rng.choice(words["actions"]),
            state=rng.choice(words["states"]), product=item, Product=item)
        sentences.append(filled)
        if rng.random() < 0.5:
            filler = words["filler"]
            start = rng.randrange(0, len(filler) - 8)
            sentences.append(cap(" ".join(filler[start:start + rng.randint(5, 12)]), lang) + ".")
    sentences.append(" ".join(rng.choice(RARE) for _ in range(4)) + ".")
    return title, " ".join(sentences)


QUERIES = {
    "en": {
        "common": ["order", "account", "payment", "delivery", "refund", "password", "store"],
        "rare": RARE[100:107],
        "medium": ["firmware", "instalment", "Zentrix", "loyalty card", "spare part", "Quillon", "voucher"],
        "question": ["how do I reset my password", "cancel my order", "refund for damaged parcel",
                     "change delivery address", "download invoice", "store opening hours", "track my parcel"],
        "typo": ["refnud", "pasword", "delivry", "invocie", "warrenty", "shiping", "acount", RARE[300][:-1] + "x"],
        "none": ["unicorn stable", "quantum xylophone"],
    },
    "tr": {
        "common": ["sipariş", "kargo", "ödeme", "hesap", "iade", "fatura", "mağaza"],
        "rare": RARE[200:207],
        "medium": ["yazılım", "taksit", "Voltara", "sadakat kartı", "yedek parça", "Çamlıca", "ışık"],
        "suffixed": ["siparişlerim", "siparişimi", "iadesi", "faturamı", "hesabımı", "kargom nerede",
                     "şifremi unuttum", "ödemelerim", "mağazalarınız"],
        "question": ["siparişimi nasıl iptal ederim", "kargo takip numarası", "para iadesi ne zaman",
                     "şifre sıfırlama", "fatura indir", "servis merkezi randevu"],
        "typo": ["siparş", "kargp", "faturs", "hesep", "sifre", "odeme", "iadr"],
        "none": ["uçan halı", "gökkuşağı zürafa"],
    },
}
PREFIXES = {"en": ["ho", "how do", "how do i re", "refu", "pass", "deliv", "Zent", "store op", "cancel my"],
            "tr": ["si", "sipar", "siparişimi n", "karg", "kargo ta", "şifre sı", "iade", "fatu", "ışı"]}


# --- the run ----------------------------------------------------------------------------------

def populate(tenant, count: int, rng: random.Random) -> None:
    from django.utils import timezone

    from knowledge.models import (
        Article,
        ArticleOrganization,
        ArticleTranslation,
        TranslationStatus,
        Visibility,
    )
    from helpdesk.people.models import Organization
    from knowledge.services.content import NameInput, category_create, section_create

    category = category_create(tenant=tenant, actor=None, translations=[NameInput("en", "Help"),
                                                                        NameInput("tr", "Yardım")])
    sections = [section_create(tenant=tenant, actor=None, category=category,
                               translations=[NameInput("en", topic), NameInput("tr", topic)])
                for topic in EN["topics"]]
    organization = Organization.objects.create(tenant=tenant, name="Enterprise customers")
    topics = list(EN["topics"])
    now = timezone.now()
    batch = 2000
    for start in range(0, count, batch):
        size = min(batch, count - start)
        articles = []
        for i in range(size):
            roll = rng.random()
            visibility = (Visibility.INTERNAL if roll < 0.08 else Visibility.ORGANIZATIONS if roll < 0.12
                          else Visibility.SIGNED_IN if roll < 0.16 else Visibility.PUBLIC)
            helpful = int(rng.expovariate(0.2))
            articles.append(Article(tenant=tenant, section=rng.choice(sections), position=start + i,
                                    visibility=visibility, helpful_count=helpful,
                                    unhelpful_count=int(rng.expovariate(0.5)), is_promoted=rng.random() < 0.01))
        Article.objects.bulk_create(articles, batch_size=1000)
        ArticleOrganization.objects.bulk_create([
            ArticleOrganization(tenant=tenant, article=a, organization=organization)
            for a in articles if a.visibility == Visibility.ORGANIZATIONS])
        translations = []
        for article in articles:
            topic, extra = rng.choice(topics), rng.choice(topics)
            published = now - timedelta(days=rng.randint(0, 1200))
            for lang in ("en", "tr"):
                title, text = article_text(rng, lang, topic, extra)
                translations.append(ArticleTranslation(
                    tenant=tenant, article=article, locale=lang, title=title[:255], body_html=f"<p>{text}</p>",
                    body_text=text, status=TranslationStatus.PUBLISHED, published_at=published))
        ArticleTranslation.objects.bulk_create(translations, batch_size=1000)
        print(f"  {start + size:>7} articles", end="\r", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=20000, help="articles (each in English and Turkish)")
    parser.add_argument("-n", type=int, default=600, help="searches to time (autocomplete: the same number)")
    parser.add_argument("--explain", action="store_true", help="print the plan of a common-word search")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--locations", type=int, default=5000,
                        help="service locations for the nearest-first figure (0: skip; bench/kb_locations.py has more)")
    args = parser.parse_args()

    django_setup(API_RATE_LIMIT="off")
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from helpdesk.tenancy.context import dangerously_unscoped, tenant_scope
    from helpdesk.tenancy.services import tenant_create
    from knowledge.audience import AGENTS, ANONYMOUS
    from knowledge.models import HelpCenterSettings, SearchSource
    from knowledge.search.indexing import tenant_reindex
    from knowledge.search.service import kb_autocomplete, kb_search, kb_suggest

    if connection.vendor != "postgresql":
        print("bench/kb_search.py measures PostgreSQL: set DATABASE_URL (see the docstring).")
        return
    rng = random.Random(args.seed)
    with throwaway_database():
        tenants = []
        for slug, count in (("bench", args.articles), ("other", max(1, args.articles // 10))):
            tenant = tenant_create(slug=slug, name=slug.title(), owner_email=f"owner@{slug}.test",
                                   owner_password="bench-password-1")
            with tenant_scope(tenant):
                HelpCenterSettings.objects.update_or_create(tenant=tenant, defaults={"locales": ["en", "tr"]})
                started = time.perf_counter()
                populate(tenant, count, rng)
                inserted = time.perf_counter() - started
                started = time.perf_counter()
                with transaction.atomic():
                    rows = tenant_reindex(tenant_id=tenant.pk)
                indexed = time.perf_counter() - started
            print(f"{slug}: {count} articles, {rows} translations: inserted in {inserted:.0f} s, "
                  f"indexed in {indexed:.0f} s ({rows / indexed:.0f} translations/s)")
            tenants.append(tenant)
        with dangerously_unscoped(), connection.cursor() as cursor:
            for table in ("knowledge_articletranslation", "knowledge_article", "knowledge_searchdocument",
                          "knowledge_searchterm"):
                cursor.execute(f"ANALYZE {table}")
            cursor.execute("SELECT pg_size_pretty(pg_relation_size('kb_searchdoc_tsv')), "
                           "pg_size_pretty(pg_relation_size('kb_searchdoc_title_tsv')), "
                           "pg_size_pretty(pg_relation_size('kb_searchdoc_title_trgm')), "
                           "(SELECT count(*) FROM knowledge_searchterm)")
            sizes = cursor.fetchone()
        print(f"indexes: document {sizes[0]}, titles {sizes[1]}, title trigrams {sizes[2]}; "
              f"vocabulary {sizes[3]} words")
        tenant = tenants[0]

        mix = [(lang, kind, q) for lang, kinds in QUERIES.items() for kind, qs in kinds.items() for q in qs]
        timings: dict[str, list[float]] = {}
        counts: dict[str, set[int]] = {}
        found: dict[str, list[int]] = {}
        with tenant_scope(tenant):
            for lang, kind, q in mix:  # warm the caches once
                kb_search(tenant=tenant, query=q, locale=lang, audience=ANONYMOUS, source=SearchSource.PORTAL,
                          record=False)
            for i in range(args.n):
                lang, kind, q = mix[i % len(mix)]
                audience = AGENTS if i % 5 == 4 else ANONYMOUS
                with CaptureQueriesContext(connection) as queries:
                    started = time.perf_counter()
                    with transaction.atomic():
                        results = kb_search(tenant=tenant, query=q, locale=lang, audience=audience,
                                            source=SearchSource.PORTAL, record=True)
                    elapsed = time.perf_counter() - started
                for label in ("all", f"{lang} {kind}"):
                    timings.setdefault(label, []).append(elapsed)
                counts.setdefault(kind, set()).add(len([x for x in queries.captured_queries
                                                        if not x["sql"].startswith(("SAVEPOINT", "RELEASE"))]))
                found.setdefault(f"{lang} {kind}", []).append(results.total)
            ac_times = []
            for i in range(args.n):
                lang = "en" if i % 2 == 0 else "tr"
                prefix = PREFIXES[lang][(i // 2) % len(PREFIXES[lang])]
                started = time.perf_counter()
                with transaction.atomic():
                    kb_autocomplete(tenant=tenant, prefix=prefix, locale=lang, audience=ANONYMOUS)
                ac_times.append(time.perf_counter() - started)
            suggest_times = []
            texts = [("en", "Hello, my parcel is late and the tracking number does not work. I want a refund. Thanks"),
                     ("tr", "Merhaba, siparişim hâlâ gelmedi ve kargo takip numarası çalışmıyor. İade istiyorum."),
                     ("en", "I forgot my password and the reset email never arrives, please help"),
                     ("tr", "Faturamı indiremiyorum, hesabımda ödeme görünmüyor")]
            for i in range(max(40, args.n // 5)):
                lang, text = texts[i % len(texts)]
                started = time.perf_counter()
                with transaction.atomic():
                    kb_suggest(tenant=tenant, text=text, locale=lang, audience=ANONYMOUS)
                suggest_times.append(time.perf_counter() - started)
            nearest_times = []
            if args.locations:
                from kb_locations import generate, random_point

                from knowledge.locations.geo import Point
                from knowledge.locations.selectors import location_nearest

                generate(tenant, count=args.locations, seed=1)
                generate(tenants[1], count=max(1, args.locations // 10), seed=2)
                with dangerously_unscoped(), connection.cursor() as cursor:
                    cursor.execute("ANALYZE knowledge_location")
                points = [random_point(rng) for _ in range(200)]
                for i in range(args.n + 1):
                    started = time.perf_counter()
                    with transaction.atomic():
                        rows = location_nearest(tenant=tenant, point=Point(*points[i % len(points)]), limit=20)
                    if i:  # the first one warms up
                        nearest_times.append(time.perf_counter() - started)
                    assert len(rows) == 20
            plan = ""
            if args.explain:
                from knowledge.search import postgres

                with CaptureQueriesContext(connection) as captured, transaction.atomic():
                    kb_search(tenant=tenant, query="order", locale="en", audience=ANONYMOUS,
                              source=SearchSource.PORTAL, record=False)
                    statement = next(x["sql"] for x in captured.captured_queries if x["sql"].startswith("WITH"))
                    with postgres.index_scans(), connection.cursor() as cursor:
                        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement)
                        plan = "\n".join(row[0] for row in cursor.fetchall())

    print(" " * 40, end="\r")
    print(f"help-center search, {args.articles} articles x 2 languages (+ a second tenant with a tenth), "
          f"PostgreSQL, one process, each call in a transaction")
    print(describe("kb_search, whole mix", timings.pop("all")))
    for label in sorted(timings):
        average = sum(found[label]) / len(found[label])
        print(describe(f"  {label} (~{average:.0f} found)", timings[label]))
    print(describe("kb_autocomplete", ac_times))
    print(describe("kb_suggest (ticket-sized text)", suggest_times))
    print("queries per search: " + ", ".join(f"{kind} {sorted(c)}" for kind, c in sorted(counts.items())))
    if nearest_times:
        print(describe(f"nearest 20 of {args.locations:,} locations", nearest_times))
    if plan:
        print("\nplan of a search for \"order\" (en, anonymous):\n" + plan)


if __name__ == "__main__":
    main()
