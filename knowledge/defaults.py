"""How a new tenant's help center starts: English and Turkish switched on, one category with a
"Getting started" section and two published articles in both languages (how to reach the
team, how to follow a request), so the help center, its search and its suggestions work on
day one. Everything is ordinary content the team edits or deletes."""
from __future__ import annotations

from helpdesk.tenancy.models import Tenant
from knowledge.models import Category, HelpCenterSettings, TranslationStatus
from knowledge.services.content import NameInput, TranslationInput, article_create, category_create, section_create

PUBLISHED = TranslationStatus.PUBLISHED

CONTACT_EN = (
    "<p>You can reach our support team in the way that suits you best:</p>"
    "<ul><li><strong>Submit a request</strong> from any page of this help center (the “Contact us” button). "
    "We answer by email and you can follow the request here.</li>"
    "<li><strong>Email</strong> us: every message becomes a request with a number, and replying to our emails "
    "keeps the conversation in the same request.</li></ul>"
    "<p>Before you write, try the search box at the top: many answers are already here.</p>")
CONTACT_TR = (
    "<p>Destek ekibimize size en uygun yoldan ulaşabilirsiniz:</p>"
    "<ul><li>Bu yardım merkezinin her sayfasından <strong>talep gönderin</strong> (“Bize ulaşın” düğmesi). "
    "Size e-postayla yanıt veririz, talebinizi buradan da takip edebilirsiniz.</li>"
    "<li>Bize <strong>e-posta</strong> gönderin: her ileti numaralı bir talep olur, e-postalarımızı "
    "yanıtladığınızda yazışma aynı talepte devam eder.</li></ul>"
    "<p>Yazmadan önce üstteki arama kutusunu deneyin: pek çok yanıt zaten burada.</p>")
FOLLOW_EN = (
    "<p>Sign in to the help center with your email address: we send you a one-time sign-in link, no "
    "password needed. Under <strong>My requests</strong> you see every request you made, the ones you are "
    "copied on and our replies.</p><p>You can answer a request there, add attachments, or mark it as "
    "solved when your question is answered.</p>")
FOLLOW_TR = (
    "<p>Yardım merkezine e-posta adresinizle giriş yapın: size tek kullanımlık bir giriş bağlantısı "
    "göndeririz, parola gerekmez. <strong>Taleplerim</strong> bölümünde açtığınız tüm talepleri, bilgiye "
    "eklendiğiniz talepleri ve yanıtlarımızı görürsünüz.</p><p>Talebinize oradan yanıt verebilir, dosya "
    "ekleyebilir ya da sorunuz yanıtlandığında talebi çözüldü olarak işaretleyebilirsiniz.</p>")


def help_center_defaults_create(tenant: Tenant) -> None:
    """Tenant defaults (``register_tenant_defaults``). Precondition: in ``tenant``'s scope.
    Idempotent: a tenant that has help-center content keeps it as it is."""
    locales = [tenant.default_locale or "en"] + [code for code in ("en", "tr") if code != tenant.default_locale]
    HelpCenterSettings.objects.get_or_create(tenant=tenant, defaults={"locales": locales})
    if Category.objects.filter(tenant=tenant).exists():
        return
    category = category_create(tenant=tenant, actor=None, translations=[
        NameInput("en", "General", "Getting started with our support."),
        NameInput("tr", "Genel", "Destek hizmetimizi kullanmaya başlarken."),
    ])
    section = section_create(tenant=tenant, actor=None, category=category, translations=[
        NameInput("en", "Getting started"), NameInput("tr", "Başlarken"),
    ])
    article_create(tenant=tenant, actor=None, section=section, is_promoted=True, translations=[
        TranslationInput("en", "How do I contact support?", CONTACT_EN, PUBLISHED),
        TranslationInput("tr", "Destek ekibine nasıl ulaşırım?", CONTACT_TR, PUBLISHED),
    ], labels=["support"])
    article_create(tenant=tenant, actor=None, section=section, translations=[
        TranslationInput("en", "How do I follow my requests?", FOLLOW_EN, PUBLISHED),
        TranslationInput("tr", "Taleplerimi nasıl takip ederim?", FOLLOW_TR, PUBLISHED),
    ], labels=["support"])
