"""Who may do what through the API: active staff users, with the Django model permission of
each endpoint and action (the ones the admin checks), and never a write with a read-only token.

A view names the permissions of its actions in `required_perms` ({action or method: [perm]});
otherwise the model's view/add/change/delete permission follows the HTTP method.
"""

from __future__ import annotations

from typing import Any

from rest_framework import permissions
from rest_framework.request import Request

from api.models import ApiToken

_ACTIONS = {
    "GET": "view",
    "HEAD": "view",
    "OPTIONS": "view",
    "POST": "add",
    "PUT": "change",
    "PATCH": "change",
    "DELETE": "delete",
}


def read_only_token(request: Request) -> bool:
    return isinstance(request.auth, ApiToken) and request.auth.read_only


class StaffModelPermissions(permissions.BasePermission):
    message = "You do not have the permission for this action."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active and user.is_staff):
            return False
        safe = request.method in permissions.SAFE_METHODS or getattr(view, "reads_only", False)
        if read_only_token(request) and not safe:
            self.message = "This API token is read-only."
            return False
        return user.has_perms(self.required(request, view))

    @staticmethod
    def required(request: Request, view: Any) -> list[str]:
        named = getattr(view, "required_perms", {})
        action = getattr(view, "action", None)
        if action in named:
            return named[action]
        if request.method in named:
            return named[request.method]
        model = view.get_queryset().model
        verb = _ACTIONS.get(request.method or "", "change")
        return [f"{model._meta.app_label}.{verb}_{model._meta.model_name}"]
