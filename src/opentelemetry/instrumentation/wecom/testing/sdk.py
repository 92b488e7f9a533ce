"""Point third-party WeCom SDKs at the mock.

wechatpy hard-codes ``https://qyapi.weixin.qq.com`` for gettoken and media download, so setting
``API_BASE_URL`` alone is not enough; :func:`wechatpy_client` overrides all three.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .server import MockWeComServer


def wechatpy_client(mock: MockWeComServer, **kwargs: Any) -> Any:
    """A wechatpy ``WeChatClient`` (1.8 ``enterprise``, 2.x ``work``) talking to ``mock``.

    ``kwargs`` go to the client (e.g. ``timeout=5``); it logs in with the mock's corp_id and
    corp_secret unless ``corp_id``/``secret`` are given.
    """
    try:
        from wechatpy.enterprise import WeChatClient  # noqa: PLC0415 - optional dependency
    except ImportError:
        from wechatpy.work import WeChatClient  # noqa: PLC0415 - wechatpy 2.x

    base = mock.api_base_url

    class MockedWeChatClient(WeChatClient):  # type: ignore[misc]
        API_BASE_URL = base

        def fetch_access_token(self) -> Any:
            return self._fetch_access_token(
                url=base + "gettoken", params={"corpid": self.corp_id, "corpsecret": self.secret}
            )

    kwargs.setdefault("corp_id", mock.corp_id)
    kwargs.setdefault("secret", mock.corp_secret)
    client = MockedWeChatClient(**kwargs)

    def media_url(media_id: str) -> str:
        return f"{base}media/get?access_token={client.access_token}&media_id={media_id}"

    client.media.get_url = media_url
    return client
