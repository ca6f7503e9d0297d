"""Real-time plumbing: one consumer, group helpers, the event catalogue, a frame-handler registry."""
