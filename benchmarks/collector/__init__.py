"""Collector throughput: the bundled config against a pass-through config, same binary.

``python -m benchmarks.collector`` (``make bench-collector``). A load generator
(``telemetrygen``, collector-contrib's, built with ``go install`` and cached next to the
collector) sends 4-span traces whose spans carry a ``url.full`` with an ``access_token``. For
each configuration the offered rate is raised step by step; a step is *sustained* when the
collector accepted what was offered (within 3 %), refused nothing and its Jaeger exporter
neither failed nor dropped anything. The last sustained step is the configuration's
throughput. Both configurations export to a sink collector that discards everything.

Rounds alternate the order of the configurations, so machine noise falls on both alike; the
ratios are computed within a round. See docs/benchmarks.md ("Collector throughput").
"""
