"""Every error a client sees is JSON with a `message`, whatever went wrong."""

from __future__ import annotations

import httpx


class TestErrorShapes:
    async def test_an_unknown_route_under_api_answers_json_404(
        self, api: httpx.AsyncClient
    ) -> None:
        response = await api.get("/no/such/route")
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/json"
        assert response.json() == {"message": "Not Found."}

    async def test_a_wrong_method_answers_json_405(self, api: httpx.AsyncClient) -> None:
        response = await api.put("/flow/tags", json={})
        assert response.status_code == 405
        assert response.json() == {"message": "Method Not Allowed."}

    async def test_several_invalid_fields_are_all_named(self, api: httpx.AsyncClient) -> None:
        response = await api.post("/flow/create-bot-field", json={"name": 5})
        assert response.status_code == 422
        body = response.json()
        assert body["errors"] == {
            "name": ["The name field must be a string."],
            "var_type": ["The var_type field is required."],
            "value": ["The value field is required."],
        }
        assert body["message"] == "The name field must be a string. (and 2 more errors)"

    async def test_a_body_that_is_not_an_object_answers_422(self, api: httpx.AsyncClient) -> None:
        response = await api.post("/flow/create-tag", json=["VIP"])
        assert response.status_code == 422
        assert "message" in response.json()

    async def test_a_2xx_never_carries_status_error(self, api: httpx.AsyncClient) -> None:
        response = await api.post("/flow/create-tag", json={"name": "VIP"})
        assert response.status_code == 200
        assert response.json()["status"] == "ok"

    async def test_a_non_integer_page_answers_422_naming_it(self, api: httpx.AsyncClient) -> None:
        response = await api.get("/flow/tags", params={"page": "two"})
        assert response.status_code == 422
        assert response.json()["errors"] == {"page": ["The page field must be an integer."]}

    async def test_a_number_too_large_for_any_id_is_a_client_error(
        self, api: httpx.AsyncClient
    ) -> None:
        # SQLite looks the number up and finds nothing; PostgreSQL refuses it before looking.
        for response in (
            await api.request("DELETE", "/team/delete-label", json={"id": 3_000_000_000}),
            await api.get("/subscribers", params={"label_id": 3_000_000_000}),
        ):
            assert response.status_code in {200, 404, 422}
            assert response.json().get("message") or response.json()["data"] == []
