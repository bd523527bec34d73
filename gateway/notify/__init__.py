"""Messages to people: the transactional outbox and its delivery over SMTP."""
