"""Overhead benchmarks for opentelemetry-instrumentation-wecom (``python -m benchmarks``).

The harness starts a loopback WeCom-like server in a separate process, then
measures, in one client process, the client-side CPU and wall time per call of
bare httpx / requests against the stock OpenTelemetry HTTP instrumentations and
``WeComInstrumentor``, interleaving the configurations round by round so that
machine noise falls on all of them alike. See docs/benchmarks.md.
"""
