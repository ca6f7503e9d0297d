"""The integration service: the outbox handlers, the only code that imports several subsystems."""
