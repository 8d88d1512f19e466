"""HTTP in front of the functions: the OpenFaaS-compatible gateway, the playground and the OpenAPI document."""
