"""File download responses, built in one place so every download carries the same protective headers.

A stored file is the user's content: it is always offered as a download
(never rendered by the browser), its type is not guessed again, and no cache
keeps a copy of personal data.
"""

from __future__ import annotations

from starlette.responses import Response

from gateway.requests.attachments import content_disposition


def download_response(data: bytes | str, media_type: str, filename: str) -> Response:
    """``data`` as a download named ``filename``."""
    headers = {
        "Content-Disposition": content_disposition(filename),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
    }
    return Response(data, media_type=media_type, headers=headers)
