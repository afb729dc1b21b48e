"""HTTP API (FastAPI): events in, decisions out; API keys with scopes; an audit log of calls."""
