"""The dashboard's own pages: the overview (the admin's home) and the access tester.

Thin adapters: the overview's data comes from `dashboard.overview`, the tester's answer from
`authz.explain`, against this process's live snapshot.
"""

from __future__ import annotations

import time

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.views.decorators.debug import sensitive_post_parameters

from authz.explain import HeaderError, described, explain_for
from authz.runtime import get_runtime
from dashboard import overview
from dashboard.forms import TesterForm


def index(request: HttpRequest) -> HttpResponse:
    """The admin's home page: the overview above Django's list of apps."""
    return admin.site.index(request, extra_context=overview.overview())


@sensitive_post_parameters("headers")
def tester(request: HttpRequest) -> HttpResponse:
    """GET: the form, filled in from "test this" links. POST: the explanation.

    The request is POSTed so a key in the headers never reaches a URL, a browser history or
    an access log; the form comes back with the headers field empty.
    """
    result = None
    if request.method == "POST":
        form = TesterForm(request.POST)
        if form.is_valid():
            result = _explain(form)
        # Whatever happened, the headers are not shown back (the errors stay).
        form.data = form.data.copy()
        form.data["headers"] = ""
    else:
        form = TesterForm(initial=request.GET.dict())
    context = {
        **admin.site.each_context(request),
        "title": "Access tester",
        "form": form,
        "result": result,
    }
    response = TemplateResponse(request, "admin/dashboard/tester.html", context)
    response["Cache-Control"] = "no-store"
    return response


def _explain(form: TesterForm) -> object:
    data = form.cleaned_data
    lines = data["headers"].splitlines() if data["headers"].strip() else []
    try:
        facts = described(data["method"], data["host"], data["uri"], lines)
    except HeaderError as exc:
        form.add_error("headers", str(exc))
        return None
    runtime = get_runtime()
    client = str(data["client"].pk) if data["client"] is not None else None
    snap = runtime.holder.fresh()
    return explain_for(facts, snap, time.time(), client_id=client, config=runtime.config)
