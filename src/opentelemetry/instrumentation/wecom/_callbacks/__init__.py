"""The callback side of the delivery chain: WSGI and ASGI middleware for the app's callback URL.

``examine`` reads a WeCom callback request (signature parameters, envelope, decrypted event)
into bounded facts; ``record`` turns them into a SERVER span and metric points; ``wsgi`` and
``asgi`` are the two thin adapters that see the request and hand the app an unchanged copy.
The public names are in ``opentelemetry.instrumentation.wecom.callbacks``.
"""
