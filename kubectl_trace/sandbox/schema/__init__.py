"""The Kubernetes object schema the sandbox validates writes against and publishes as OpenAPI.

The source is the official ``kubernetes`` Python client's models (``kubernetes.client.models``),
which the product already depends on: they are generated from the Kubernetes OpenAPI document
of the same release (client 37 = Kubernetes 1.37), and each model keeps that document's facts —
JSON field names (``attribute_map``), types (``openapi_types``), which fields are required and
their descriptions (the pydantic ``model_fields``). The swagger.json itself is not packaged by
any installed distribution and cannot be downloaded at run time, so the sandbox reads the
schema back out of the models rather than shipping a copy of its own: new kinds (Jobs, …)
validate as soon as the client has a model for them.
"""
