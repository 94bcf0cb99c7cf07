"""The local stack: which PostgreSQL and Redis `make run` / `make test` use, and the private fallback."""

from __future__ import annotations

import psycopg
import pytest
import redis

from demoportal import devstack
from tests.demoportal.test_health import free_port


@pytest.fixture
def nothing_installed(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    """A laptop with no PostgreSQL or Redis: the usual ports answer nothing, no URLs are configured."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setattr(devstack, "BASE_DIR", tmp_path)  # no .env there
    monkeypatch.setattr(devstack, "DATA_DIR", tmp_path / "data")  # type: ignore[operator]
    monkeypatch.setattr(devstack, "SYSTEM_POSTGRES", ("127.0.0.1", free_port()))
    monkeypatch.setattr(devstack, "SYSTEM_REDIS", ("127.0.0.1", free_port()))
    monkeypatch.setattr(devstack, "PRIVATE_POSTGRES_PORT", free_port())
    monkeypatch.setattr(devstack, "PRIVATE_REDIS_PORT", free_port())


@pytest.mark.usefixtures("nothing_installed")
def test_starts_private_postgres_and_redis_and_stops_them_on_exit() -> None:
    with devstack.stack_up() as stack:
        assert "private PostgreSQL" in stack.sources["postgres"]
        assert "private Redis" in stack.sources["redis"]
        with psycopg.connect(stack.database_url) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == ("demoportal",)
        assert redis.Redis.from_url(stack.redis_url).ping()
        processes = [server.process for server in stack.private]

    assert all(process.poll() is not None for process in processes)
    assert not devstack.port_answers("127.0.0.1", devstack.PRIVATE_POSTGRES_PORT)


@pytest.mark.usefixtures("nothing_installed")
def test_private_data_survives_a_restart() -> None:
    with devstack.stack_up() as stack, psycopg.connect(stack.database_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (value text)")
        conn.execute("INSERT INTO kept VALUES ('still here')")

    with devstack.stack_up() as stack, psycopg.connect(stack.database_url) as conn:
        assert conn.execute("SELECT value FROM kept").fetchone() == ("still here",)


def test_uses_the_servers_on_the_usual_ports_when_they_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    if not (devstack.port_answers(*devstack.SYSTEM_POSTGRES) and devstack.port_answers(*devstack.SYSTEM_REDIS)):
        pytest.skip("this machine has no PostgreSQL and Redis on their usual ports")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)

    with devstack.stack_up() as stack:
        assert stack.sources == {"postgres": "the server on 127.0.0.1:5432", "redis": "the server on 127.0.0.1:6379"}
        assert stack.private == []


def test_a_configured_redis_that_does_not_answer_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}")

    with pytest.raises(devstack.StackError, match="REDIS_URL: no Redis answers"), devstack.stack_up():
        pass


def test_a_configured_database_that_does_not_answer_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"postgres://postgres@127.0.0.1:{free_port()}/demoportal")

    expected = "DATABASE_URL: cannot reach or create database 'demoportal'"
    with pytest.raises(devstack.StackError, match=expected), devstack.stack_up():
        pass


@pytest.mark.parametrize("value", ["eighty", "0", "70000"])
def test_a_bad_port_is_named(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert devstack.main(["run", "--port", value]) == 2
    assert f"PORT is malformed: expected a number from 1 to 65535, got '{value}'" in capsys.readouterr().err


def test_exec_without_a_command_says_what_is_missing(capsys: pytest.CaptureFixture[str]) -> None:
    assert devstack.main(["exec"]) == 2
    assert "exec needs a command" in capsys.readouterr().err
