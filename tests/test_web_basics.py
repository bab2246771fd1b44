"""Cross-cutting web behaviour."""

from __future__ import annotations


def test_nul_character_in_url_is_a_clear_400_not_a_server_error(client):
    for url in ("/api/v1/subjects?q=%E7%8F%A0%00", "/api/v1/subjects/9113%0001", "/search?q=a%00b"):
        response = client.get(url)
        assert response.status_code == 400, url
    assert client.get("/api/v1/subjects?q=%00").json()["error"]["code"] == "nul_character"
