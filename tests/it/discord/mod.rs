//! The bot through the real serenity client against the local Discord double.
