//! Messages and threads sent through the bot's `Http` and the mentions policy.
