"""Export glue, the local TF-Serving-compatible server and the client (arrive with the serving issue)."""
