"""The service's routes, one router per concern (`lifecycle.serve.app` includes them)."""
