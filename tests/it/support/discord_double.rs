//! A local Discord double: REST routes the bot uses and a gateway websocket.
