//! Jobs: validation, pricing, fair queueing, polling and restarts. Knows nothing of Discord.
