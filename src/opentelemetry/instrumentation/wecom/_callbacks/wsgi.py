"""WSGI: ``WeComWSGIMiddleware`` (Flask ``app.wsgi_app``, Django ``get_wsgi_application()``).

A callback's body is read here (up to ``max_body_bytes``, by ``CONTENT_LENGTH``) and handed to
the app as a fresh ``wsgi.input`` with the same bytes; a read error is replayed to the app
when it reads past what arrived. The span ends when the server closes the response.
"""

from __future__ import annotations

import io
import weakref
from collections.abc import Iterable, Iterator
from typing import Any, Callable, Optional

from opentelemetry.instrumentation.wecom._callbacks.base import CallbackMiddleware
from opentelemetry.instrumentation.wecom._callbacks.record import CallbackRecorder, CallbackSpan
from opentelemetry.instrumentation.wecom._containment import contained, report_internal_error

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]


class WeComWSGIMiddleware(CallbackMiddleware[WSGIApp]):
    __doc__ = CallbackMiddleware.__doc__

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        callback = _begin(self._recorder, environ)
        if callback is None:
            return self.app(environ, start_response)
        answer = _Answer()

        def observed_start_response(status: str, headers: Any, *args: Any, **kwargs: Any) -> Any:
            answer.note(status)
            return start_response(status, headers, *args, **kwargs)

        token = callback.activate()
        try:
            result = self.app(environ, observed_start_response)
        except BaseException as exception:
            callback.finish(answer.status, exception)
            raise
        finally:
            callback.deactivate(token)
        if isinstance(result, (list, tuple)):
            callback.finish(answer.status)
            return result  # already complete: handed back as it is
        return _ObservedResult(result, callback, answer)


class _Answer:
    """The status line the app passed to ``start_response``."""

    __slots__ = ("status",)

    def __init__(self) -> None:
        self.status: Optional[int] = None

    @contained
    def note(self, status: str) -> None:
        self.status = int(status[:3])


def _begin(recorder: CallbackRecorder, environ: Environ) -> Optional[CallbackSpan]:
    """The span of a WeCom callback (its body re-provided to the app), or None for any other."""
    try:
        start_ns = recorder.clock_ns()
        method = environ.get("REQUEST_METHOD", "")
        path = environ.get("PATH_INFO", "")
        signed = recorder.recognise(method, path, environ.get("QUERY_STRING", ""))
        if signed is None:
            return None
        body = _take_body(environ, recorder.max_body_bytes) if recorder.wants_body(method) else None
    except Exception:
        report_internal_error("wsgi._begin")
        return None
    return recorder.begin(method, path, signed, body, start_ns)


def _take_body(environ: Environ, limit: int) -> Optional[bytes]:
    """Read the body (when its length is known and within ``limit``) and re-provide it."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None
    if length < 0 or length > limit:
        return None
    stream = environ["wsgi.input"]
    chunks: list[bytes] = []
    remaining = length
    error: Optional[Exception] = None
    try:
        while remaining > 0:
            chunk = stream.read(remaining)
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
    except Exception as exception:  # the app would have met it: it meets it on its own read
        error = exception
    body = b"".join(chunks)
    environ["wsgi.input"] = _ReplayedInput(body, error) if error is not None else io.BytesIO(body)
    return body if error is None else None


class _ReplayedInput(io.BytesIO):
    """The bytes that arrived, then the error the read after them raised."""

    def __init__(self, data: bytes, error: Exception) -> None:
        super().__init__(data)
        self._error = error

    def read(self, size: Optional[int] = -1) -> bytes:
        data = super().read(size)
        if not data and size != 0:
            raise self._error
        return data

    def readline(self, size: Optional[int] = -1) -> bytes:
        data = super().readline(size)
        if not data and size != 0:
            raise self._error
        return data


class _ObservedResult:
    """The app's response iterable, passed through; the span ends when the server closes it."""

    def __init__(self, inner: Iterable[bytes], callback: CallbackSpan, answer: _Answer) -> None:
        self._inner = inner
        self._callback = callback
        self._answer = answer
        self._error: Optional[BaseException] = None
        # A server that never closes the response still ends the span, when it drops it.
        self._finalizer = weakref.finalize(self, _finish, callback, answer, None)

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._inner
        except GeneratorExit:
            raise  # the server stopped reading: not the app's error
        except BaseException as exception:
            self._error = exception
            raise

    def close(self) -> None:
        try:
            close = getattr(self._inner, "close", None)
            if close is not None:
                close()
        finally:
            self._finalizer.detach()
            _finish(self._callback, self._answer, self._error)


def _finish(callback: CallbackSpan, answer: _Answer, error: Optional[BaseException]) -> None:
    callback.finish(answer.status, error)
