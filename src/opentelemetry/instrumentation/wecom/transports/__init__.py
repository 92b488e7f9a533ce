"""Transport adapters: translate one HTTP client's request and response to a ``WeComCall``.

Each adapter wraps the client method that already reads the response body
(httpx ``Client.send`` / ``AsyncClient.send``, requests ``Session.send``), so
the errcode is taken from bytes the app reads anyway.
"""
