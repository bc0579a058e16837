"""The demo tenant's help center: an online shop's answers in English and Turkish, one internal
article for agents, and a few weeks of visits (searches, clicks, views, votes, a ticket filed
after a failed search) so the reports have something to show."""
from __future__ import annotations

import random
from datetime import timedelta

from django.utils import timezone

from helpdesk.tenancy.demo import DemoTenant, register_demo_seeder
from knowledge.models import Article, ArticleView, SearchEvent, SelfServiceSession
from knowledge.services import content, listening
from knowledge.services.content import NameInput, TranslationInput

P = "published"

STRUCTURE = [
    (("Orders and delivery", "Siparişler ve teslimat"), [
        (("Tracking your order", "Siparişinizi takip etme"), [
            ("Where is my order?", "<p>Open <strong>My orders</strong> in your account and choose the order: the "
             "tracking link shows where the parcel is. Orders ship within 1 business day; delivery takes 2–4 "
             "business days.</p>",
             "Siparişim nerede?", "<p>Hesabınızda <strong>Siparişlerim</strong> bölümünü açıp siparişi seçin: "
             "kargo takip bağlantısı paketin nerede olduğunu gösterir. Siparişler 1 iş günü içinde kargoya "
             "verilir; teslimat 2–4 iş günü sürer.</p>", ["delivery", "tracking"]),
            ("My tracking number does not work", "<p>A new tracking number becomes active a few hours after the "
             "carrier scans the parcel. If it still shows nothing after 24 hours, contact us with your order "
             "number.</p>",
             "Kargo takip numaram çalışmıyor", "<p>Yeni bir takip numarası, kargo firması paketi okuttuktan birkaç "
             "saat sonra etkinleşir. 24 saat sonra hâlâ bir şey görünmüyorsa sipariş numaranızla bize "
             "yazın.</p>", ["tracking"]),
        ]),
        (("Shipping", "Kargo"), [
            ("Shipping costs and delivery times", "<p>Shipping is free over 500 TL. Standard delivery takes 2–4 "
             "business days, express delivery the next business day when ordered before 14:00.</p>",
             "Kargo ücretleri ve teslimat süreleri", "<p>500 TL üzeri siparişlerde kargo ücretsizdir. Standart "
             "teslimat 2–4 iş günü, saat 14:00'ten önce verilen ekspres siparişler ertesi iş günü teslim "
             "edilir.</p>", ["delivery"]),
        ]),
    ]),
    (("Returns and refunds", "İadeler ve geri ödemeler"), [
        (("Returns", "İadeler"), [
            ("How do I return a product?", "<p>You can return any product within 30 days. Start the return "
             "under <strong>My orders</strong>, print the label and drop the parcel at any pick-up point.</p>",
             "Bir ürünü nasıl iade ederim?", "<p>Her ürünü 30 gün içinde iade edebilirsiniz. İadeyi "
             "<strong>Siparişlerim</strong> bölümünden başlatın, etiketi yazdırın ve paketi herhangi bir teslim "
             "noktasına bırakın.</p>", ["returns"]),
            ("When will I get my refund?", "<p>Refunds go back to the card you paid with within 5 business days "
             "after the returned item reaches our warehouse. Your bank may take a few more days to show it.</p>",
             "Geri ödememi ne zaman alırım?", "<p>İade edilen ürün depomuza ulaştıktan sonra 5 iş günü içinde "
             "ödeme yaptığınız karta geri ödeme yapılır. Bankanızın bunu göstermesi birkaç gün daha "
             "sürebilir.</p>", ["returns", "refund"]),
        ]),
    ]),
    (("Account and security", "Hesap ve güvenlik"), [
        (("Signing in", "Giriş yapma"), [
            ("I forgot my password", "<p>Choose <em>Forgot password</em> on the sign-in page and enter your email "
             "address; the reset link is valid for one hour.</p>",
             "Şifremi unuttum", "<p>Giriş sayfasında <em>Şifremi unuttum</em> seçeneğini seçip e-posta adresinizi "
             "girin; sıfırlama bağlantısı bir saat geçerlidir.</p>", ["login"]),
            ("Two-factor codes do not arrive", "<p>Check that your phone's clock is set automatically, then "
             "request a new code. Codes expire after 5 minutes.</p>",
             "İki adımlı doğrulama kodu gelmiyor", "<p>Telefonunuzun saatinin otomatik ayarlı olduğunu kontrol "
             "edin ve yeni bir kod isteyin. Kodların süresi 5 dakikada dolar.</p>", ["login"]),
        ]),
    ]),
]

INTERNAL = ("Refund exceptions (agents only)", "<p>Refunds outside the 30-day window need a team lead's approval: "
            "add the tag <code>refund-exception</code> and assign the ticket to Billing.</p>",
            "İade istisnaları (yalnızca temsilciler)", "<p>30 günlük süre dışındaki iadeler ekip liderinin onayını "
            "gerektirir: <code>refund-exception</code> etiketini ekleyip talebi Faturalama ekibine atayın.</p>")

SEARCHES = [("where is my order", "en"), ("refund", "en"), ("siparişim nerede", "tr"), ("iade", "tr"),
            ("password", "en"), ("gift card", "en"), ("hediye çeki", "tr"), ("kargo ücreti", "tr")]


@register_demo_seeder(order=150)
def seed_help_center(demo: DemoTenant) -> None:
    tenant = demo.tenant
    author = demo.users.get("owner@demo.test")
    articles: list[Article] = []
    for (cat_en, cat_tr), sections in STRUCTURE:
        category = content.category_create(tenant=tenant, actor=author,
                                           translations=[NameInput("en", cat_en), NameInput("tr", cat_tr)])
        for (sec_en, sec_tr), items in sections:
            section = content.section_create(tenant=tenant, actor=author, category=category,
                                             translations=[NameInput("en", sec_en), NameInput("tr", sec_tr)])
            for title_en, body_en, title_tr, body_tr, labels in items:
                articles.append(content.article_create(
                    tenant=tenant, actor=author, section=section, labels=labels, owner=author,
                    is_promoted=len(articles) < 3, translations=[TranslationInput("en", title_en, body_en, P),
                                                                 TranslationInput("tr", title_tr, body_tr, P)]))
            if sec_en == "Returns":
                content.article_create(tenant=tenant, actor=author, section=section, visibility="internal",
                                       owner=author, translations=[TranslationInput("en", INTERNAL[0], INTERNAL[1], P),
                                                                   TranslationInput("tr", INTERNAL[2], INTERNAL[3], P)])
    _seed_visits(demo, articles)
    demo.notes.append(f"Help center: {len(articles) + 1} articles in English and Turkish at /hc/")


def _seed_visits(demo: DemoTenant, articles: list[Article]) -> None:
    """A few weeks of self-service visits, spread over the past days (deterministic)."""
    tenant, rng, now = demo.tenant, random.Random(5), timezone.now()
    for n in range(60):
        key = f"demo-visit-{n:04d}-{rng.randrange(10**8):08d}"
        query, locale = SEARCHES[n % len(SEARCHES)]
        found = 0 if query in ("gift card", "hediye çeki") else rng.randint(1, 3)
        search = listening.search_record(tenant=tenant, query=query, locale=locale, source="portal",
                                         result_count=found, session_key=key)
        if found and rng.random() < 0.7:
            article = articles[rng.randrange(len(articles))]
            listening.search_click(tenant=tenant, search_id=search.pk, article_id=article.pk)
            listening.article_view_record(tenant=tenant, article=article, locale=locale, session_key=key,
                                          search_id=search.pk)
            if rng.random() < 0.5:
                content.article_vote(article=article, voter_key=f"session:{key}", helpful=rng.random() < 0.8,
                                     locale=locale)
        elif not found and rng.random() < 0.5 and demo.contacts:
            listening.session_outcome_record(tenant=tenant, session_key=key, outcome="ticket",
                                             contact_id=demo.contacts[n % len(demo.contacts)].pk)
        # Spread the visit over the last 28 days so the charts have a shape.
        when = now - timedelta(days=rng.randrange(28), minutes=rng.randrange(600))
        SelfServiceSession.objects.filter(tenant=tenant, key=key).update(started_at=when, last_seen_at=when)
        SearchEvent.objects.filter(tenant=tenant, session__key=key).update(created_at=when)
        ArticleView.objects.filter(tenant=tenant, session__key=key).update(created_at=when)
