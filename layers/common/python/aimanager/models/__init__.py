"""Pydantic request/response models and domain value objects."""
