"""People's passwords are hashed with argon2id at RFC 9106's second recommended cost unless
a deployment says otherwise (the test suite lowers it through its environment only)."""

from argon2 import PasswordHasher, Type

from regia_partners.config import PartnersSettings


def test_the_default_cost_is_argon2id_at_rfc_9106s_recommendation(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    for name in ("REGIA_ARGON2_TIME_COST", "REGIA_ARGON2_MEMORY_KIB", "REGIA_ARGON2_PARALLELISM"):
        monkeypatch.delenv(name, raising=False)
    settings = PartnersSettings(database_url="postgresql://unused/x")
    hasher = PasswordHasher(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
    )
    assert hasher.type is Type.ID
    assert (settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism) == (3, 65_536, 4)
    assert hasher.hash("una frase lunga e segreta").startswith("$argon2id$v=19$m=65536,t=3,p=4$")
