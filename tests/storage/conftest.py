"""An S3-compatible server for the storage tests: moto's server mode (``python -m moto.server``) as its own
process on a free loopback port, over real HTTP, with one bucket; stopped by its process id at the end."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass

import httpx
import pytest

from scc.processes import free_port
from tests.api.helpers import wait_for

BUCKET = "scc-documents"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


@dataclass
class S3Server:
    endpoint: str
    bucket: str

    def settings_env(self, prefix: str) -> dict[str, str]:
        """The product's settings for storage under ``s3://<bucket>/<prefix>`` on this server."""
        return {"SCC_STORAGE_URL": f"s3://{self.bucket}/{prefix}", "SCC_STORAGE_ENDPOINT_URL": self.endpoint,
                "SCC_STORAGE_ACCESS_KEY_ID": "testing", "SCC_STORAGE_SECRET_ACCESS_KEY": "testing",
                "SCC_STORAGE_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"}

    def client(self):
        """A plain boto3 client: the independent side of the checks."""
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id="testing",
                            aws_secret_access_key="testing", region_name="us-east-1")


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
                               env={**os.environ, **CREDENTIALS})
    server = S3Server(f"http://127.0.0.1:{port}", BUCKET)
    try:
        wait_for(lambda: httpx.get(server.endpoint + "/moto-api/", timeout=2, trust_env=False).status_code == 200,
                 timeout=30, what="moto's S3 server")
        server.client().create_bucket(Bucket=BUCKET)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
