"""The README's webhook verification examples verify what Gatekeeper sends (and refuse what
it did not): the JavaScript one run with Node, the Python one as written."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from webhooks import payloads, signing

README = Path(__file__).resolve().parents[2] / "README.md"
DRIVER = """
import { readFileSync } from "node:fs";
import { verifyGatekeeperWebhook } from "./verify.mjs";

const cases = JSON.parse(readFileSync(process.argv[2], "utf8"));
for (const { body, headers, secret } of cases) {
  try {
    const payload = verifyGatekeeperWebhook(Buffer.from(body, "utf8"), headers, secret);
    console.log(`ok ${payload.type}`);
  } catch (error) {
    console.log(`refused ${error.message}`);
  }
}
"""


def readme_block(language: str) -> str:
    section = README.read_text().split("## Webhooks", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(rf"```{language}\n(.*?)```", section, re.DOTALL)
    return block


def signed(secrets: list[str], *, body: bytes | None = None, age: int = 0) -> dict:
    body = body or payloads.body("msg_readme", "client.created", _now(), {"client": {"id": "c"}})
    stamp = int(time.time()) - age
    return {
        "body": body.decode(),
        "headers": signing.headers(secrets, "msg_readme", stamp, body),
    }


def _now():
    from django.utils import timezone

    return timezone.now()


@pytest.mark.needs("node")
def test_the_javascript_example_verifies_and_refuses(tmp_path):
    (tmp_path / "verify.mjs").write_text(readme_block("js"))
    (tmp_path / "driver.mjs").write_text(DRIVER)
    secret, other = signing.generate(), signing.generate()
    good = signed([secret])
    tampered = {**good, "body": good["body"].replace("client.created", "client.deleted")}
    cases = [
        {**good, "secret": secret},
        {**signed([other, secret]), "secret": secret},  # during a rotation: two signatures
        {**tampered, "secret": secret},
        {**good, "secret": other},
        {**signed([secret], age=3600), "secret": secret},
    ]
    (tmp_path / "cases.json").write_text(json.dumps(cases))
    result = subprocess.run(  # noqa: S603 - node on our own files
        [shutil.which("node") or "node", "driver.mjs", "cases.json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.splitlines() == [
        "ok client.created",
        "ok client.created",
        "refused no valid signature",
        "refused no valid signature",
        "refused webhook too old or too new",
    ]


def test_the_python_example_verifies():
    secret = signing.generate()
    case = signed([secret])
    scope = {"secret": secret, "raw_body": case["body"].encode(), "headers": case["headers"]}
    exec(readme_block("python"), scope)  # noqa: S102 - the README's own example
    assert scope["payload"]["type"] == "client.created"
