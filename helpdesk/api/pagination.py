from rest_framework import pagination


class CursorPagination(pagination.CursorPagination):
    """Cursor pagination (no COUNT); lists order by a key the view allows, newest first."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"
