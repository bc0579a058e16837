from base64 import b64encode
from urllib import parse

from django.core.exceptions import FieldDoesNotExist, ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import pagination
from rest_framework.exceptions import NotFound, ValidationError


class CursorPagination(pagination.CursorPagination):
    """Cursor pagination (no COUNT); lists order by a key the view allows, newest first.

    A cursor that does not decode, or whose position does not fit the ordering field, is a
    400 naming ``cursor`` (DRF answers 404 for the first and 500 for the second).
    """

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"
    invalid_cursor_message = _("Invalid cursor.")

    def paginate_queryset(self, queryset, request, view=None):
        self._model = getattr(queryset, "model", None)
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            raise ValidationError({self.cursor_query_param: [self.invalid_cursor_message]}) from None
        # DRF decodes leniently ("!!!" reads as the first page): accept only what we issue.
        encoded = request.query_params.get(self.cursor_query_param)
        if cursor is not None and encoded != self._encode(cursor):
            raise ValidationError({self.cursor_query_param: [self.invalid_cursor_message]})
        if cursor is not None and cursor.position is not None and self._model is not None:
            name = self.ordering[0].lstrip("-") if self.ordering else "pk"
            try:
                field = self._model._meta.pk if name == "pk" else self._model._meta.get_field(name)
                field.to_python(cursor.position)
            except FieldDoesNotExist:
                pass  # ordering across a relation: left to the database
            except (DjangoValidationError, ValueError, TypeError):
                raise ValidationError({self.cursor_query_param: [self.invalid_cursor_message]}) from None
        return cursor

    @staticmethod
    def _encode(cursor) -> str:
        tokens = {}
        if cursor.offset != 0:
            tokens["o"] = str(cursor.offset)
        if cursor.reverse:
            tokens["r"] = "1"
        if cursor.position is not None:
            tokens["p"] = cursor.position
        return b64encode(parse.urlencode(tokens, doseq=True).encode("ascii")).decode("ascii")
