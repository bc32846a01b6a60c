"""A real S3-compatible store for tests: moto's server mode over HTTP on a free loopback port.

`s3_server(buckets)` starts `moto_server`, creates the buckets and yields the endpoint URL with
dummy credentials exported (boto3, s3fs, MLflow and DVC all read the same AWS_* variables).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from lifecycle.system import free_port

BIN = Path(sys.executable).parent
DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def _wait_listening(port: int, proc: subprocess.Popen[bytes], timeout: float) -> None:
    """Block until the server accepts connections; fail early if it died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"moto_server exited with {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"moto_server did not listen on 127.0.0.1:{port} within {timeout} s")


def s3_client(endpoint: str) -> Any:
    """A boto3 S3 client on the endpoint with the dummy credentials."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name=DUMMY_CREDENTIALS["AWS_DEFAULT_REGION"],
    )


def object_keys(endpoint: str, bucket: str, prefix: str = "") -> list[str]:
    """Every object key of a bucket under a prefix (all pages)."""
    pages = (
        s3_client(endpoint).get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    )
    return [obj["Key"] for page in pages for obj in page.get("Contents", [])]


@contextmanager
def s3_server(buckets: Sequence[str] = ("lifecycle",), log: Path | None = None) -> Iterator[str]:
    """Start moto's S3 server, create the buckets, export dummy credentials, yield the endpoint."""
    port = free_port()
    out = log.open("wb") if log is not None else subprocess.DEVNULL
    proc = subprocess.Popen(
        [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=out,
        stderr=subprocess.STDOUT,
        env={**os.environ, **DUMMY_CREDENTIALS},
    )
    old = {k: os.environ.get(k) for k in DUMMY_CREDENTIALS}
    try:
        _wait_listening(port, proc, timeout=60)
        endpoint = f"http://127.0.0.1:{port}"
        os.environ.update(DUMMY_CREDENTIALS)
        client = s3_client(endpoint)
        for bucket in buckets:
            client.create_bucket(Bucket=bucket)
        yield endpoint
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        if log is not None and not isinstance(out, int):
            out.close()
