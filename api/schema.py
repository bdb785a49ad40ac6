"""How drf-spectacular describes the API's own authentication in the OpenAPI schema."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.TokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token (gka_...), issued in the admin or by issue_api_token.",
        }


PROBLEM = {
    "type": "object",
    "description": "An RFC 9457 problem detail.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "location": {"type": "string", "example": "methods.GET"},
                    "message": {"type": "string"},
                },
                "required": ["location", "message"],
            },
        },
    },
    "required": ["type", "title", "status", "detail"],
}
# What any operation may answer besides its success.
ERRORS = {
    "400": "Invalid input: `errors` says where and why.",
    "401": "No valid API token or session.",
    "403": "Not allowed: a missing model permission, a read-only token, or no CSRF token.",
    "404": "No such object.",
    "429": "Too many failed API tokens from this address.",
}
# And what writes to one object may answer.
WRITE_ERRORS = {
    "409": "Not possible in the current state (e.g. revoking a revoked credential).",
    "412": "If-Match named a version that is no longer current.",
}


def problem_responses(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: every operation documents its problem details."""
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM
    content = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path in result.get("paths", {}).values():
        for method, operation in path.items():
            errors = dict(ERRORS)
            if method in ("post", "put", "patch", "delete"):
                errors.update(WRITE_ERRORS)
            for code, text in errors.items():
                operation["responses"].setdefault(code, {"description": text, "content": content})
    return result
