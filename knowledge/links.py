"""Clean help-center URLs: ``/hc/<locale>/articles/<id>-<slug>/`` (and the same for
categories and sections). The id finds the page; a wrong or old slug redirects to the current
one, so links survive renames."""
from __future__ import annotations

from django.urls import reverse
from django.utils.text import slugify


def slug_for(title: str) -> str:
    # Turkish letters fold to ASCII (slugify drops what it cannot fold: "ı" would vanish).
    folded = (title or "").translate(str.maketrans("ıİşŞğĞçÇöÖüÜ", "iIsSgGcCoOuU"))
    return slugify(folded)[:80].strip("-") or "-"


def article_path(*, locale: str, article_id: int, title: str = "") -> str:
    return reverse("helpcenter:article", kwargs={"locale": locale, "pk": article_id, "slug": slug_for(title)})


def section_path(*, locale: str, section_id: int, name: str = "") -> str:
    return reverse("helpcenter:section", kwargs={"locale": locale, "pk": section_id, "slug": slug_for(name)})


def category_path(*, locale: str, category_id: int, name: str = "") -> str:
    return reverse("helpcenter:category", kwargs={"locale": locale, "pk": category_id, "slug": slug_for(name)})
