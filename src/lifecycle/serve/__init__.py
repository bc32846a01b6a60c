"""The serving API (FastAPI): predict, feedback, health, model card, metrics, admin, hot swap."""
