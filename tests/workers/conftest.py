import pytest

from tests.servers import RedisServer, redis_binary


@pytest.fixture
def redis_server(tmp_path):
    """A redis-server of the test's own on a free port; skipped only when the binary is absent."""
    if redis_binary() is None:
        pytest.skip("redis-server is not installed (Debian: apt-get install redis-server)")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()
