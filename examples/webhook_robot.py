"""A group robot notifier (webhook/send): spans without leaking the robot's key.

    python examples/webhook_robot.py

A robot takes 20 messages a minute; an alert storm of 23 gets three 45009 answers. Every span
is `wecom webhook/send` with the errcode, and `url.full` shows `key=REDACTED`: whoever reads
the traces cannot post to your group.
"""

from __future__ import annotations

import requests
from _setup import start_telemetry, wecom, where_the_traces_went


class RobotNotifier:
    """Posts markdown alerts to one WeCom group robot."""

    def __init__(self, webhook_url: str) -> None:
        self._url = webhook_url  # https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=...
        self._session = requests.Session()

    def alert(self, title: str, detail: str) -> int:
        body = {"msgtype": "markdown", "markdown": {"content": f"**{title}**\n> {detail}"}}
        return self._session.post(self._url, json=body, timeout=10).json()["errcode"]


def main() -> None:
    with wecom() as w:
        telemetry = start_telemetry("webhook-robot-example", w.hosts)
        robot = RobotNotifier(w.webhook_url)

        errcodes = [robot.alert("Disk full", f"node-{i} at 97%") for i in range(23)]
        print("webhook/send errcodes:", errcodes)
        print("rate limited (45009):", errcodes.count(45009))

        telemetry.shutdown()
    print(where_the_traces_went())


if __name__ == "__main__":
    main()
