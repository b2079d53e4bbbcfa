"""The plan's FHIR R4 APIs (FastAPI) over the serving store; see app.create_app."""
