"""HTTP edge of the layer: the response envelope, error mapping, CORS and the caller's auth context."""
