"""The learning loop: what the bot misunderstood becomes training data (redaction, the inbox, applying examples)."""
