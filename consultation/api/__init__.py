"""The read-only JSON API of public data, described by an OpenAPI document."""
