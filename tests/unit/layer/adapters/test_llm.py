"""The Ollama client: certificates are verified whenever the node is reached over TLS."""

from __future__ import annotations

import ssl

from aimanager.adapters.llm import OllamaChat, tls_options


def test_https_nodes_keep_full_certificate_verification() -> None:
    assert tls_options("https://gpu.internal:11434") == {}
    assert tls_options(" HTTPS://gpu.internal") == {}
    client = OllamaChat("https://gpu.internal:11434", 5)._client._client  # the httpx.Client inside
    context = client._transport._pool._ssl_context
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


def test_plain_http_nodes_skip_loading_a_ca_bundle_they_cannot_use() -> None:
    assert tls_options("http://127.0.0.1:11434") == {"verify": False}
