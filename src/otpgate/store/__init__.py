"""SQLAlchemy Core adapters for the service ports; every dialect difference lives here."""
