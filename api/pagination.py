"""Pages of the API's lists.

Configuration lists (routes, clients, ...) are small enough for numbered pages. The audit
trail and the decision records are not (tens of millions of decision rows): they are read
with a cursor over an index, newest first, and never counted.
"""

from __future__ import annotations

from rest_framework.pagination import CursorPagination, PageNumberPagination


class Pages(PageNumberPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


class NewestFirst(CursorPagination):
    """Keyset pages on (time, id), the order of the tables' indexes."""

    ordering = ("-time", "-id")
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
