"""Temporary media: the multipart upload, the in-memory store and HTTP Range parsing."""

from __future__ import annotations

import email.parser
import email.policy
import re
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

MEDIA_TYPES = ("image", "voice", "video", "file")
# Upload size limits per type (doc 96484); every file must be larger than 5 bytes.
MAX_UPLOAD_BYTES = {
    "image": 10 * 2**20,
    "voice": 2 * 2**20,
    "video": 10 * 2**20,
    "file": 20 * 2**20,
}
MIN_UPLOAD_BYTES = 6
_EXTENSIONS = {"image": "jpg", "voice": "amr", "video": "mp4", "file": "bin"}


@dataclass(frozen=True)
class UploadedFile:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class MediaItem:
    media_id: str
    type: str
    filename: str
    content_type: str
    data: bytes
    created_at: int


def parse_multipart(content_type: str, body: bytes) -> dict[str, UploadedFile]:
    """Parse a ``multipart/form-data`` body into its named parts (``cgi`` is gone in 3.13)."""
    if not content_type.lower().startswith("multipart/form-data"):
        return {}
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    parts: dict[str, UploadedFile] = {}
    if not message.is_multipart():
        return parts
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        parts[name] = UploadedFile(
            filename=part.get_filename() or name,
            content_type=part.get_content_type(),
            data=payload if isinstance(payload, bytes) else b"",
        )
    return parts


class MediaStore:
    """Uploaded media by media_id, in memory; the oldest items go once ``max_bytes`` is exceeded
    (WeCom forgets temporary media after 3 days; a long-running mock must not grow forever)."""

    def __init__(self, max_bytes: int = 256 * 2**20) -> None:
        self._lock = threading.Lock()
        self._items: OrderedDict[str, MediaItem] = OrderedDict()
        self._bytes = 0
        self._max_bytes = max_bytes

    def add(self, media_type: str, filename: str, content_type: str, data: bytes) -> MediaItem:
        media_id = "3" + secrets.token_urlsafe(48)
        if "." not in filename:
            filename = f"{filename}.{_EXTENSIONS.get(media_type, 'bin')}"
        item = MediaItem(media_id, media_type, filename, content_type, data, int(time.time()))
        with self._lock:
            self._items[media_id] = item
            self._bytes += len(data)
            while self._bytes > self._max_bytes and len(self._items) > 1:
                _, oldest = self._items.popitem(last=False)
                self._bytes -= len(oldest.data)
        return item

    def get(self, media_id: str) -> MediaItem | None:
        with self._lock:
            return self._items.get(media_id)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0


_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$")


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """The inclusive byte span of a single-range ``Range`` header, or None if unsatisfiable.

    Raises ValueError for a header that is not a single ``bytes=`` range (then the whole
    entity is sent, as HTTP allows).
    """
    match = _RANGE.match(header)
    if not match or not (match.group(1) or match.group(2)):
        raise ValueError(header)
    first, last = match.group(1), match.group(2)
    if not first:
        length = int(last)
        if length == 0:
            return None
        return max(0, size - length), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        return None
    return start, end
