"""devstack refuses a port held by a stranger instead of hanging."""

import socket

import pytest

from devstack.processes import Component, start


def test_port_taken_by_another_process_is_reported() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        component = Component(
            name="it-port-probe", port=port, argv=lambda: ["sleep", "60"], healthy=lambda: True
        )
        with pytest.raises(SystemExit, match=f"port {port} .* already in use"):
            start(component)
