"""The channel-independent dialogue core: content, the offer check, the policy. No Telegram, HTTP or SQL."""
