"""The TMF event hub, once for every API: subscriptions (POST/DELETE /hub), turning table stream
records into TMF events, and delivering them to listeners through a queue."""
