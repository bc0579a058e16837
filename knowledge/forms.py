"""Forms of the console's help-center editor. They parse and type the input; the rules
(sanitising, names per language, visibility, a section's parent, publishing) belong to the
services (``knowledge.services.content``), whose ValidationErrors land on these fields."""
from __future__ import annotations

import zoneinfo
from datetime import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from knowledge.html import MAX_ARTICLE_CHARS
from knowledge.locales import normalize_locale
from knowledge.models import Visibility
from knowledge.services.content import NameInput
from knowledge.views.editor_queries import State


class ServiceErrorsMixin:
    def add_service_errors(self, exc: ValidationError, *, rename: dict[str, str] | None = None) -> None:
        rename = rename or {}
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc.messages)
            return
        for name, errors in exc.message_dict.items():
            name = rename.get(name, name)
            self.add_error(name if name in self.fields else None, errors)


# --- categories and sections ---------------------------------------------------------------

class NamesForm(ServiceErrorsMixin, forms.Form):
    """A name and a description in each of the help center's languages (the default one required)."""

    def __init__(self, *args, locales: list[str], labels: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.locales = locales
        for index, locale in enumerate(locales):
            self.fields[f"name_{locale}"] = forms.CharField(
                label=_("Name (%(language)s)") % {"language": labels.get(locale, locale)},
                max_length=200, required=index == 0)
            self.fields[f"description_{locale}"] = forms.CharField(
                label=_("Description (%(language)s)") % {"language": labels.get(locale, locale)},
                max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def name_pairs(self):
        return [(self[f"name_{locale}"], self[f"description_{locale}"]) for locale in self.locales]

    def names(self) -> list[NameInput]:
        return [NameInput(locale=locale, name=self.cleaned_data[f"name_{locale}"],
                          description=self.cleaned_data.get(f"description_{locale}") or "")
                for locale in self.locales if self.cleaned_data.get(f"name_{locale}")]

    @staticmethod
    def initial_from(translations) -> dict:
        initial = {}
        for item in translations:
            initial[f"name_{item.locale}"] = item.name
            initial[f"description_{item.locale}"] = item.description
        return initial


class SectionForm(NamesForm):
    def __init__(self, *args, categories: list[tuple[int, str]], parents: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"] = forms.TypedChoiceField(label=_("Category"), choices=categories, coerce=int)
        self.fields["parent"] = forms.TypedChoiceField(
            label=_("Inside section"), choices=[("", _("— none (top level) —")), *parents], coerce=int,
            required=False, empty_value=None,
            help_text=_("Sections may nest; the parent must be in the same category."))


# --- articles -----------------------------------------------------------------------------

class Action:
    SAVE = "save"
    REVIEW = "review"
    PUBLISH = "publish"
    SCHEDULE = "schedule"
    CHOICES = ((SAVE, _("Save draft")), (REVIEW, _("Submit for review")), (PUBLISH, _("Publish")),
               (SCHEDULE, _("Schedule")))


def parse_local_datetime(value: str, tz_name: str) -> datetime:
    """A ``datetime-local`` value read in the tenant's timezone."""
    try:
        naive = datetime.fromisoformat((value or "").strip())
    except ValueError:
        raise ValidationError(_("Enter a date and time.")) from None
    if naive.tzinfo is not None:
        return naive
    try:
        zone = zoneinfo.ZoneInfo(tz_name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    return timezone.make_aware(naive, zone)


class TranslationForm(ServiceErrorsMixin, forms.Form):
    """One language of an article: its title and body, and what to do with them."""

    title = forms.CharField(label=_("Title"), max_length=255)
    body_html = forms.CharField(label=_("Body"), required=False, max_length=MAX_ARTICLE_CHARS, strip=False,
                                widget=forms.Textarea(attrs={"rows": 18, "class": "kb-source"}),
                                help_text=_("HTML. Scripts, styles and event handlers are removed on save."))
    note = forms.CharField(label=_("Note for the history"), max_length=255, required=False,
                           help_text=_("What changed, in a few words (optional)."))
    # Set by the submit button pressed; Enter in a field saves a draft.
    action = forms.ChoiceField(choices=Action.CHOICES, required=False, widget=forms.HiddenInput)
    publish_at = forms.CharField(label=_("Publish at"), required=False,
                                 widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))

    def __init__(self, *args, tz_name: str = "UTC", **kwargs):
        super().__init__(*args, **kwargs)
        self.tz_name = tz_name

    def clean(self):
        cleaned = super().clean()
        cleaned["action"] = cleaned.get("action") or Action.SAVE
        if cleaned["action"] == Action.SCHEDULE:
            raw = cleaned.get("publish_at") or ""
            if not raw:
                self.add_error("publish_at", _("Choose when to publish."))
            else:
                try:
                    at = parse_local_datetime(raw, self.tz_name)
                except ValidationError as exc:
                    self.add_error("publish_at", exc)
                else:
                    if at <= timezone.now():
                        self.add_error("publish_at", _("Choose a time in the future."))
                    cleaned["publish_at"] = at
        else:
            cleaned["publish_at"] = None
        return cleaned


class ArticleSettingsForm(ServiceErrorsMixin, forms.Form):
    """Where an article lives and who sees it: section, visibility, organizations, labels,
    promoted, owner, review-by date."""

    section = forms.TypedChoiceField(label=_("Section"), coerce=int)
    visibility = forms.ChoiceField(label=_("Visible to"), choices=Visibility.choices, widget=forms.RadioSelect)
    organization_ids = forms.TypedMultipleChoiceField(label=_("Organizations"), coerce=int, required=False,
                                                      widget=forms.CheckboxSelectMultiple)
    add_organizations = forms.CharField(
        label=_("Add organizations"), required=False, max_length=2000,
        help_text=_("Organization names, separated by commas."))
    labels = forms.CharField(label=_("Labels"), required=False, max_length=1000,
                             help_text=_("Separated by commas, e.g. billing, refunds."))
    is_promoted = forms.BooleanField(label=_("Promoted on the help center's home page"), required=False)
    owner = forms.TypedChoiceField(label=_("Owner"), coerce=int, required=False, empty_value=None,
                                   help_text=_("Keeps the article current; told when it is due for review."))
    review_by = forms.DateField(label=_("Review by"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    def __init__(self, *args, sections: list, owners: list[tuple[int, str]],
                 organizations: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["section"].choices = [(s.pk, s.label) for s in sections]
        self.fields["owner"].choices = [("", _("— nobody —")), *owners]
        self.fields["organization_ids"].choices = organizations

    def label_names(self) -> list[str]:
        return [name.strip() for name in (self.cleaned_data.get("labels") or "").split(",") if name.strip()]

    def added_organization_names(self) -> list[str]:
        return [name.strip() for name in (self.cleaned_data.get("add_organizations") or "").split(",")
                if name.strip()]


class NeedsUpdateForm(forms.Form):
    needs_update = forms.BooleanField(required=False)


class ScheduleForm(forms.Form):
    publish_at = forms.CharField(label=_("Publish at"), required=False,
                                 widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))

    def __init__(self, *args, tz_name: str = "UTC", **kwargs):
        super().__init__(*args, **kwargs)
        self.tz_name = tz_name

    def clean_publish_at(self):
        raw = self.cleaned_data.get("publish_at") or ""
        if not raw:
            return None
        at = parse_local_datetime(raw, self.tz_name)
        if at <= timezone.now():
            raise ValidationError(_("Choose a time in the future."))
        return at


class UploadForm(forms.Form):
    file = forms.FileField(label=_("File or image"))


# --- the tree's filters ----------------------------------------------------------------------

STATUS_CHOICES = (("", _("Any status")), *[(key, State.LABELS[key]) for key in (
    State.DRAFT, State.REVIEW, State.PUBLISHED, State.SCHEDULED, State.ARCHIVED, State.CHANGES)])


class TreeFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=STATUS_CHOICES, required=False)
    locale = forms.ChoiceField(label=_("Language"), required=False)
    label = forms.TypedChoiceField(label=_("Label"), coerce=int, required=False, empty_value=None)
    owner = forms.CharField(label=_("Owner"), required=False, max_length=20)
    missing = forms.BooleanField(label=_("Missing translations"), required=False)
    in_review = forms.BooleanField(label=_("In review"), required=False)
    needs_update = forms.BooleanField(label=_("Needs update"), required=False)
    past_review = forms.BooleanField(label=_("Past review date"), required=False)

    def __init__(self, *args, locales: list[tuple[str, str]], labels: list[tuple[int, str]],
                 owners: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["locale"].choices = [("", _("Any language")), *locales]
        self.fields["label"].choices = [("", _("Any label")), *labels]
        self.owner_choices = [("", _("Anyone")), ("me", _("Me")), *[(str(pk), name) for pk, name in owners]]
        self.owner_ids = {pk for pk, _name in owners}

    def clean_owner(self):
        value = (self.cleaned_data.get("owner") or "").strip()
        if value in ("", "me"):
            return value
        if not value.isdigit() or int(value) not in self.owner_ids:
            raise ValidationError(_("Choose an owner from the list."))
        return value


# --- help-center settings ----------------------------------------------------------------------

class HelpCenterSettingsForm(ServiceErrorsMixin, forms.Form):
    is_enabled = forms.BooleanField(label=_("The help center is open"), required=False)
    locales = forms.MultipleChoiceField(label=_("Languages"), required=False, widget=forms.CheckboxSelectMultiple)
    other_locales = forms.CharField(
        label=_("Other languages"), required=False, max_length=300,
        help_text=_("Language codes separated by commas, e.g. de, pt-br."))
    suggest_in_request_form = forms.BooleanField(label=_("Suggest articles while customers write a request"),
                                                 required=False)
    suggest_in_acknowledgement = forms.BooleanField(
        label=_("List matching articles in the acknowledgement of new email requests"), required=False)

    def __init__(self, *args, choices: list[tuple[str, str]], default: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["locales"].choices = choices
        self.default = default

    def clean_other_locales(self):
        codes = []
        for raw in (self.cleaned_data.get("other_locales") or "").replace(";", ",").split(","):
            if raw.strip():
                try:
                    codes.append(normalize_locale(raw))
                except ValidationError as exc:
                    raise ValidationError(exc.messages) from None
        return codes

    def chosen_locales(self) -> list[str]:
        chosen = [self.default]
        for code in [*self.cleaned_data.get("locales", []), *self.cleaned_data.get("other_locales", [])]:
            if code not in chosen:
                chosen.append(code)
        return chosen


# --- search synonyms ---------------------------------------------------------------------------

class SynonymForm(ServiceErrorsMixin, forms.Form):
    """A set of equivalent search terms in one language. It only splits the text into terms; what
    makes a valid set (how many, how long, distinct) is ``knowledge.search.synonyms``'s to say,
    the same rules as the API's."""

    locale = forms.ChoiceField(label=_("Language"))
    terms = forms.CharField(
        label=_("Equivalent terms"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One term per line or separated by commas, such as refund, money back, reimbursement. "
                    "A term may be several words."))

    def __init__(self, *args, choices: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["locale"].choices = choices

    def clean_terms(self) -> list[str]:
        text = (self.cleaned_data.get("terms") or "").replace(",", "\n")
        return [line.strip() for line in text.splitlines() if line.strip()]

    @staticmethod
    def initial_from(synonym) -> dict:
        return {"locale": synonym.locale, "terms": "\n".join(str(term) for term in synonym.terms or [])}
