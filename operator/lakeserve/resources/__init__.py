"""One external client per kind; the only code that talks to Databricks for that kind."""
