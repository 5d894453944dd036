"""Reading an endpoint's optional body: nothing at all, a JSON object, or the same fields as a form post.

Ninja reads a body it requires; an action whose body is optional (`POST …/claim`, `POST …/redeem`) reads
it with `optional_body`, which answers anything it cannot use with the API's 422 naming the field.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import ValidationError

from forecourt.core.errors import CoreErrorCode, field_error


def optional_body[SchemaT: Schema](request: HttpRequest, schema: type[SchemaT]) -> SchemaT:
    """The body as `schema`: empty → its defaults; a form post (or an empty multipart body, as some clients
    send) → the schema's fields from the form; JSON → the object. Anything else is a 422."""
    raw = request.body.strip()
    if not raw:
        return schema()
    if not (request.content_type or "").endswith("json"):
        data: Any = {name: request.POST[name] for name in schema.model_fields if name in request.POST}
    else:
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise field_error(CoreErrorCode.INVALID, "body", _("Send a JSON object.")) from None
        if not isinstance(data, dict):
            raise field_error(CoreErrorCode.INVALID, "body", _("Send a JSON object."))
    try:
        return schema.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first.get("loc", ())) or "body"
        raise field_error(CoreErrorCode.INVALID, field, str(first.get("msg", ""))) from None
