"""The OpenAPI document and the interactive docs, which must work with no internet access."""

from __future__ import annotations

import re

import schemathesis

from AppCode.api.docs import openapi_30
from tests.api.conftest import ClientFor


def test_the_docs_page_uses_only_assets_this_server_serves(client_for: ClientFor) -> None:
    anonymous = client_for(None)

    page = anonymous.get("/docs")

    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "http://" not in page.text and "https://" not in page.text and "//cdn" not in page.text
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert len(assets) >= 3
    for asset in assets:
        assert asset.startswith("/api/v1/docs/static/"), asset
        served = anonymous.get(asset.removeprefix("/api/v1"))
        assert served.status_code == 200 and len(served.content) > 100, asset
    spec_url = re.search(r"url: '([^']+)'", page.text)
    assert spec_url is not None and spec_url.group(1) == "/api/v1/docs/openapi-3.0.json"
    assert "validatorUrl" in page.text  # switched off: no badge from the online validator
    assert anonymous.get("/docs/static/no-such-file.js").status_code == 404


def test_openapi_documents_are_valid_and_declare_the_bearer_scheme(
    client_for: ClientFor,
) -> None:
    anonymous = client_for(None)
    document = anonymous.get("/openapi.json").json()
    for_docs = anonymous.get("/docs/openapi-3.0.json").json()

    assert document["openapi"].startswith("3.1") and for_docs["openapi"] == "3.0.3"
    schemathesis.openapi.from_dict(document).validate()
    schemathesis.openapi.from_dict(for_docs).validate()
    assert for_docs == openapi_30(document)
    assert "nullable" in str(for_docs) and "'type': 'null'" not in str(for_docs)

    assert document["components"]["securitySchemes"]["HTTPBearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": document["components"]["securitySchemes"]["HTTPBearer"]["description"],
    }
    paths = document["paths"]
    assert "security" not in paths["/api/v1/health"]["get"]
    assert paths["/api/v1/batches"]["post"]["security"] == [{"HTTPBearer": []}]
    # FastAPI's own 422 for invalid requests is replaced by the 400 error body everywhere.
    assert "HTTPValidationError" not in str(document)
    assert "Validation Error" not in str(document)
    assert paths["/api/v1/batches"]["post"]["responses"]["400"]["content"]
    assert {"/api/v1/plugins", "/api/v1/plugins/{name}/enable"} <= paths.keys()


def test_the_openapi_document_promises_the_errors_the_server_answers(
    client_for: ClientFor,
) -> None:
    paths = client_for(None).get("/openapi.json").json()["paths"]

    def error_statuses(path: str, method: str) -> dict[str, str]:
        responses = paths[f"/api/v1{path}"][method]["responses"]
        return {code: r["description"] for code, r in responses.items() if code >= "400"}

    # The service's BackupErrors (422) are documented; FastAPI's own 422 is gone everywhere.
    assert "BackupError" in error_statuses("/backups/{backup_id}/restore", "post")["422"]
    assert "ConflictError" in error_statuses("/backups/{backup_id}/restore", "post")["409"]
    assert "BackupError" in error_statuses("/backups", "post")["422"]
    # An unknown report format is a 400; a 422 is a plugin that failed.
    report = error_statuses("/batches/{batch_id}/report", "get")
    assert "400" in report and "PluginError" in report["422"]
    assert "format" not in report["422"]
    assert "409" in error_statuses("/executions/{execution_id}/output", "get")
    assert "422" not in error_statuses("/batches", "post")


def test_health_answers_without_a_token(client_for: ClientFor) -> None:
    health = client_for(None).get("/health")
    assert health.status_code == 200
    body = health.json()
    assert body["status"] == "ok" and body["version"] and body["schema_revision"]
