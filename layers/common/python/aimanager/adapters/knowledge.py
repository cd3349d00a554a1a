"""Retrieval (RAG) from Qdrant: the master's collection plus, in dedicated mode, the deployment's own."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

Embedder = Callable[[str], list[float]]


class Retriever(Protocol):
    def search(self, collections: Sequence[str], query: str, limit: int) -> list[str]: ...


class NoRetrieval:
    def search(self, collections: Sequence[str], query: str, limit: int) -> list[str]:
        return []


def ollama_embedder(host: str, model: str, timeout_s: float) -> Embedder:
    import ollama

    from aimanager.adapters.llm import tls_options

    client = ollama.Client(host=host, timeout=timeout_s, **tls_options(host))

    def embed(text: str) -> list[float]:
        return [float(x) for x in client.embed(model=model, input=text)["embeddings"][0]]

    return embed


class QdrantRetriever:
    """qdrant-client against QDRANT_URL, or the embedded on-disk mode at QDRANT_PATH (one process owns it)."""

    def __init__(self, embed: Embedder, *, url: str = "", path: str = "", client: Any | None = None) -> None:
        if client is None:
            from qdrant_client import QdrantClient

            client = QdrantClient(url=url) if url else QdrantClient(path=path)
        self._client = client
        self._embed = embed

    def search(self, collections: Sequence[str], query: str, limit: int) -> list[str]:
        wanted = [c for c in collections if c and self._client.collection_exists(c)]
        if not wanted:
            return []
        vector = self._embed(query)
        hits: list[tuple[float, str]] = []
        for name in wanted:
            for point in self._client.query_points(name, query=vector, limit=limit, with_payload=True).points:
                text = (point.payload or {}).get("text")
                if text:
                    hits.append((float(point.score), str(text)))
        return [text for _, text in sorted(hits, key=lambda h: -h[0])[:limit]]
