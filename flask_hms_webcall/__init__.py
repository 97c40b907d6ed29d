"""flask-hms-webcall: let visitors of a Flask site talk to an HMS Sovereign voice assistant."""
