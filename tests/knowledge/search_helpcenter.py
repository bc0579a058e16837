"""A small help center written for the search tests, in English and Turkish, created through
the content services (so the search documents are built the way production builds them).

``build(tenant, agent)`` returns the articles by key. Each article is there to prove
something: stemming ("refunds" → "refund", "siparişlerim" → "sipariş"), dotted and dotless i
("İADE", "IŞIK"), accent folding ("cafe" → "Café", "sifre" → "Şifre"), typo tolerance,
title-above-body ranking, and visibility (internal, signed-in, organization articles whose
words would otherwise match).
"""
from __future__ import annotations

from dataclasses import dataclass

from knowledge.models import Article, Visibility
from knowledge.services import content
from knowledge.services.content import NameInput, TranslationInput


@dataclass
class HelpCenter:
    articles: dict[str, Article]
    organization: object

    def __getitem__(self, key: str) -> Article:
        return self.articles[key]


ARTICLES = {
    # English
    "refunds": dict(en=("How do refunds work?",
                        "<p>We refund your payment to the card you paid with within five business days after "
                        "the returned item reaches our warehouse. You receive an email when the refund is "
                        "on its way.</p>")),
    "shipping": dict(en=("Shipping costs and delivery times",
                         "<p>Standard delivery takes two to four days. Express delivery arrives the next day. "
                         "If a parcel is lost we send a new one or refund the shipping costs.</p>")),
    "password": dict(en=("Resetting your password",
                         "<p>Choose <em>Forgot password</em> on the sign-in page and follow the link we email "
                         "you. The link works for one hour.</p>")),
    "cafe": dict(en=("Café loyalty card",
                     "<p>Collect a stamp with every coffee in our café and get the tenth coffee free.</p>")),
    "tracking": dict(en=("Tracking your order",
                         "<p>Once your order ships you receive a tracking number by email and text message. "
                         "Orders placed before noon ship the same day.</p>"),
                     tr=("Sipariş takibi",
                         "<p>Siparişiniz kargoya verildiğinde size e-posta ve kısa mesajla bir kargo takip "
                         "numarası göndeririz. Öğleden önce verilen siparişler aynı gün kargolanır.</p>")),
    # Turkish
    "iade": dict(tr=("İADE VE DEĞİŞİM KOŞULLARI",
                     "<p>Ürünü teslim aldığınız günden itibaren 14 gün içinde iade edebilir veya "
                     "değiştirebilirsiniz. İade kargo ücreti bizden.</p>"),
                 en=("Returns and exchanges",
                     "<p>You can return or exchange an item within 14 days of delivery. Return shipping is on "
                     "us.</p>")),
    "isik": dict(tr=("IŞIK AYARLARI",
                     "<p>Cihazınızın ışık seviyesini ayarlar menüsünden değiştirebilirsiniz. Gece modunda "
                     "ekran ışığı otomatik olarak azalır.</p>")),
    "sifre": dict(tr=("Şifre sıfırlama",
                      "<p>Giriş sayfasında <em>Şifremi unuttum</em> bağlantısını seçin ve e-postanıza "
                      "gönderdiğimiz bağlantıyı izleyin.</p>")),
    "fatura": dict(tr=("Fatura bilgileri",
                       "<p>Faturanız siparişinizle birlikte e-posta ile gönderilir. Fatura adresini hesap "
                       "ayarlarından değiştirebilirsiniz.</p>")),
    "kargo": dict(tr=("Kargo ücretleri",
                      "<p>150 TL üzeri siparişlerde kargo ücretsizdir. Daha küçük siparişlerde kargo ücreti "
                      "29 TL'dir.</p>")),
    # Only in the default language (English): a Turkish search still finds it.
    "gift": dict(en=("Gift cards",
                     "<p>Gift cards never expire and can be used for any purchase in our shop.</p>")),
}

# Articles the public must never see through search, suggestions, autocomplete or the API.
RESTRICTED = {
    "internal": (Visibility.INTERNAL, dict(
        en=("Refund override procedure",
            "<p>Agents only: approve a refund above the limit with the override code from the team lead.</p>"),
        tr=("İade onay prosedürü",
            "<p>Yalnızca temsilciler: limit üzerindeki iadeleri ekip liderinden alınan kodla onaylayın.</p>"))),
    "signed_in": (Visibility.SIGNED_IN, dict(
        en=("Refund history of your account",
            "<p>Signed-in customers see every refund of their account here.</p>"))),
    "organization": (Visibility.ORGANIZATIONS, dict(
        en=("Enterprise refund terms",
            "<p>Enterprise customers get refunds within one business day.</p>"))),
}


def build(tenant, agent, *, organization) -> HelpCenter:
    category = content.category_create(tenant=tenant, actor=agent, translations=[
        NameInput("en", "Help"), NameInput("tr", "Yardım")])
    section = content.section_create(tenant=tenant, actor=agent, category=category, translations=[
        NameInput("en", "Orders"), NameInput("tr", "Siparişler")])
    articles: dict[str, Article] = {}

    def make(key, translations, **kwargs):
        articles[key] = content.article_create(tenant=tenant, actor=agent, section=section, translations=[
            TranslationInput(locale, title, body, "published") for locale, (title, body) in translations.items()],
            **kwargs)

    for key, translations in ARTICLES.items():
        make(key, translations)
    for key, (visibility, translations) in RESTRICTED.items():
        make(key, translations, visibility=visibility,
             organization_ids=[organization.pk] if visibility == Visibility.ORGANIZATIONS else [])
    return HelpCenter(articles=articles, organization=organization)
