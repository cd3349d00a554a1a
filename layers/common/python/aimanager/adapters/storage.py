"""The uploads bucket (S3): presigned POST for the browser, then our own checks on what actually arrived."""

from __future__ import annotations

from typing import Any

import botocore.session
from botocore.exceptions import ClientError


class ObjectMissing(Exception):
    """No object under that key (the browser never uploaded it)."""


class UploadsBucket:
    """botocore client created once per container; the endpoint comes from AWS_ENDPOINT_URL when set."""

    def __init__(self, bucket: str, client: Any | None = None) -> None:
        self.bucket = bucket
        self._s3: Any = client or botocore.session.get_session().create_client("s3")

    def presigned_post(self, key: str, content_type: str, max_bytes: int, expires_s: int) -> dict[str, Any]:
        """URL and form fields for one direct upload; S3 enforces the size range and the content type."""
        out = self._s3.generate_presigned_post(
            Bucket=self.bucket,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
            ExpiresIn=expires_s,
        )
        return {"url": str(out["url"]), "fields": dict(out["fields"])}

    def size(self, key: str) -> int:
        try:
            return int(self._s3.head_object(Bucket=self.bucket, Key=key)["ContentLength"])
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                raise ObjectMissing(key) from exc
            raise

    def read(self, key: str, first_bytes: int | None = None) -> bytes:
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if first_bytes is not None:
            kwargs["Range"] = f"bytes=0-{first_bytes - 1}"
        return bytes(self._s3.get_object(**kwargs)["Body"].read())

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self._s3.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def delete(self, key: str) -> None:
        self._s3.delete_object(Bucket=self.bucket, Key=key)

    def presigned_get(self, key: str, expires_s: int, file_name: str | None = None) -> str:
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if file_name:
            params["ResponseContentDisposition"] = f"inline; filename*=UTF-8''{_quote(file_name)}"
        return str(self._s3.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_s))


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")
