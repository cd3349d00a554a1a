"""The outside world behind small interfaces: Ollama, Qdrant, SQS, EventBridge."""
