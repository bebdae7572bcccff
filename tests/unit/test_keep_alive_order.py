"""Of the two ends of an idle kept-alive connection, the client must let it go first: a
server that closes it first races every request sent on it at that moment
(regia_shared.http.serving.connection_options). The defaults keep that order for every
client of Regia's own and the usual pools."""

import httpx

from regia_console.gateway import IDLE_CONNECTION_KEPT_S
from regia_console.settings import ConsoleSettings
from regia_shared.http.serving import connection_options, uvicorn_options
from regia_shared.settings import ServiceSettings

# How long common pools keep an idle connection: aiohttp's TCPConnector keepalive_timeout,
# ingress-nginx's upstream-keepalive-timeout.
AIOHTTP_S = 15.0
INGRESS_NGINX_S = 60.0


def test_a_service_holds_an_idle_connection_longer_than_any_client_pool_keeps_it(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    for name in ("REGIA_HTTP_KEEP_ALIVE_S", "REGIA_HTTP_HEADER_TIMEOUT_S"):
        monkeypatch.delenv(name, raising=False)
    service, console = ServiceSettings().http_keep_alive_s, ConsoleSettings().http_keep_alive_s
    assert service == console, "the console is served as the services are"
    for client_s in (httpx.Limits().keepalive_expiry, IDLE_CONNECTION_KEPT_S, AIOHTTP_S, INGRESS_NGINX_S):
        assert client_s is not None and client_s < service


def test_the_keep_alive_reaches_uvicorn(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("REGIA_HTTP_KEEP_ALIVE_S", "12.5")
    options = uvicorn_options(ServiceSettings(), 8101)
    assert options["timeout_keep_alive"] == 12.5
    assert connection_options(3.0, 40.0)["timeout_keep_alive"] == 40.0
    assert connection_options(3.0, 40.0)["http"].header_timeout_s == 3.0
