"""`free_port` never hands out the same port twice in one process: a stack that asks for
all its ports before starting anything (the broker's, then the services') needs them all
different, and CI saw a broker and a service given the same one."""

from regia.local.embedded.process import free_port


def test_ports_asked_for_together_are_all_different() -> None:
    ports = [free_port() for _ in range(300)]
    assert len(set(ports)) == len(ports)
