"""``wecom-otel demo``: a WeCom incident on the mock, seen through the instrumentation.

``scenario`` plans the faults and the traffic, ``clients`` and ``driver`` send it through
instrumented httpx and wechatpy clients, ``telemetry`` sets up the SDK, ``summary`` and
``report`` turn the telemetry into the terminal summary. See docs/demo.md.
"""

from __future__ import annotations

from opentelemetry.instrumentation.wecom.demo.run import DemoOptions, DemoRun, run_demo

__all__ = ["DemoOptions", "DemoRun", "run_demo"]
