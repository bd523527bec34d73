"""The JSON API, version 1, and its OpenAPI document."""
