"""The service's connections send each answer at once (no Nagle wait on the client's ACK)."""

from __future__ import annotations

import socket

import uvicorn

from lifecycle.commands.serve import no_delay


def test_connections_accepted_on_the_served_socket_have_no_delay() -> None:
    """uvicorn's bound socket has protocol 0 (asyncio then skips TCP_NODELAY): we set it."""
    config = uvicorn.Config("x:y", host="127.0.0.1", port=0)
    raw = config.bind_socket()
    try:
        assert raw.proto == 0  # why asyncio leaves Nagle on: it only sets it for IPPROTO_TCP
        listener = no_delay(raw)
        listener.listen()  # as the worker's event loop does
        client = socket.create_connection(listener.getsockname()[:2])
        conn, _ = listener.accept()
        try:
            assert conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        finally:
            conn.close()
            client.close()
    finally:
        raw.close()
