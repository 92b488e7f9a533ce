"""``python -m opentelemetry.instrumentation.wecom.cli``: the same as ``wecom-otel``."""

from __future__ import annotations

import sys

from opentelemetry.instrumentation.wecom.cli import main

sys.exit(main())
