"""Serializer bases shared by every app's API.

Write endpoints validate with a *strict* input serializer (STYLE.md: separate input and
output serializers): a key the serializer does not declare is an error naming the key,
not silently dropped, so a typo (``"asignee"``) fails loudly instead of doing nothing.
"""
from __future__ import annotations

from collections.abc import Mapping

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers


class StrictInputMixin:
    """Reject keys that are not declared as writable fields (nested serializers too).

    Declared read-only fields count as unknown input: the client cannot set them.
    """

    default_error_messages = {
        "unknown_field": _("Unknown field."),
        "read_only_field": _("This field is read-only."),
    }

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            errors = {}
            for key in data:
                field = self.fields.get(key)
                if field is None:
                    errors[str(key)] = [self.error_messages["unknown_field"]]
                elif field.read_only:
                    errors[str(key)] = [self.error_messages["read_only_field"]]
            if errors:
                # Report the unknown keys together with the declared fields' own errors.
                try:
                    super().to_internal_value(data)
                except serializers.ValidationError as exc:
                    if isinstance(exc.detail, Mapping):
                        errors = {**exc.detail, **errors}
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class StrictInputSerializer(StrictInputMixin, serializers.Serializer):
    """Base for input (write) serializers."""


class StrictInputModelSerializer(StrictInputMixin, serializers.ModelSerializer):
    """Base for input serializers generated from a model."""


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text=_("Stable, machine-readable error code."))
    message = serializers.CharField(help_text=_("Human-readable explanation, in the request's language."))
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text=_("Messages per field path (dotted for nested fields); empty when not about fields."),
    )


class ErrorSerializer(serializers.Serializer):
    """The body of every API error response (documentation only)."""

    error = ErrorDetailSerializer()
