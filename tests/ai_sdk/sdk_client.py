"""Runs INSIDE the livepeer-ai SDK venv (.venv-ai-sdk), never in lpc's: a client process like a user's.

stdin: {"server_url": "http://127.0.0.1:P", "timeout_ms": 120000, "jobs": [job, ...]} where a job is
    {"method": "audio_to_text",                     # a method of Livepeer(...).generate
     "request": {"model_id": "", ...},              # the request's plain fields
     "files": {"audio": {"path": "/tmp/a.wav", "file_name": "a.wav", "content_type": "audio/wav"}}}
stdout (last line): {"results": [result, ...]}, one per job:
    {"ok": true, "status": 200, "content_type": ..., "model_header": <X-Livepeer-Model or null>,
     "field": "text_response", "result": {...model_dump}}
    {"ok": false, "status": 400 | null, "error": "errors.HTTPError", "message": str(exc),
     "detail_msg": ..., "body": ...}
`error` is how a user of the SDK would catch it: errors.HTTPError, errors.HTTPValidationError,
errors.SDKError, pydantic.ValidationError, or the module-qualified name of anything else. `status` is
the last HTTP status the SDK's httpx client saw (HTTPError itself carries none).

Standalone on purpose: it imports nothing from lpc, so it proves what the published SDK does.
"""

from __future__ import annotations

import json
import sys
import traceback

import httpx
import pydantic
from livepeer_ai import Livepeer
from livepeer_ai.models import errors


def _file_part(spec: dict) -> dict:
    with open(spec["path"], "rb") as f:
        data = f.read()
    part = {"file_name": spec["file_name"], "content": data}
    if spec.get("content_type"):
        part["content_type"] = spec["content_type"]
    return part


def _response_field(res) -> tuple[str, object]:
    """The one parsed model in an operations.Gen*Response (the others are None)."""
    for name in type(res).model_fields:
        if name != "http_meta" and getattr(res, name) is not None:
            return name, getattr(res, name)
    return "", None


def _run(sdk: Livepeer, job: dict, seen: dict) -> dict:
    seen.clear()
    request = dict(job.get("request", {}))
    for name, spec in job.get("files", {}).items():
        request[name] = _file_part(spec)
    try:
        res = getattr(sdk.generate, job["method"])(request=request)
    except errors.HTTPError as e:
        return {"ok": False, "status": seen.get("status"), "error": "errors.HTTPError", "message": str(e),
                "detail_msg": e.data.detail.msg}
    except errors.HTTPValidationError as e:
        return {"ok": False, "status": seen.get("status"), "error": "errors.HTTPValidationError",
                "message": str(e), "detail": [d.model_dump() for d in (e.data.detail or [])]}
    except errors.SDKError as e:
        return {"ok": False, "status": e.status_code, "error": "errors.SDKError", "message": e.message,
                "body": e.body}
    except pydantic.ValidationError as e:
        return {"ok": False, "status": seen.get("status"), "error": "pydantic.ValidationError",
                "message": str(e), "body": seen.get("body")}
    except Exception as e:  # noqa: BLE001 - reported to the test, which decides
        return {"ok": False, "status": seen.get("status"), "error": f"{type(e).__module__}.{type(e).__qualname__}",
                "message": str(e), "traceback": traceback.format_exc()[-2000:]}
    field, model = _response_field(res)
    return {"ok": True, "status": res.http_meta.response.status_code,
            "content_type": res.http_meta.response.headers.get("content-type", ""),
            "model_header": res.http_meta.response.headers.get("x-livepeer-model"),
            "field": field, "result": model.model_dump(mode="json") if model is not None else None}


def main() -> None:
    job_set = json.loads(sys.stdin.read())
    seen: dict = {}

    def record(response: httpx.Response) -> None:
        seen["status"] = response.status_code
        response.read()
        seen["body"] = response.text[:2000]

    client = httpx.Client(trust_env=False, event_hooks={"response": [record]})
    sdk = Livepeer(http_bearer="x", server_url=job_set["server_url"], client=client,
                   timeout_ms=job_set.get("timeout_ms", 120_000))
    results = [_run(sdk, job, seen) for job in job_set["jobs"]]
    print(json.dumps({"results": results}))


if __name__ == "__main__":
    main()
