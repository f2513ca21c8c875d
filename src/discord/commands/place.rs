//! Where a command was used: the channel, its parent when it is a thread, and whether the
//! channel is age-restricted (Discord's `nsfw` flag).

use serenity::all::{
    Channel, CommandInteraction, ComponentInteraction, Http, ModalInteraction, PartialChannel,
};

use crate::ids::ChannelId;

/// The channel a command came from, and its parent channel when it is a thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    pub channel: ChannelId,
    pub parent: Option<ChannelId>,
}

/// The place of `interaction`. A thread's `parent_id` is its channel; a text channel's
/// `parent_id` is its category, which is not a place members can use commands in.
pub fn of(interaction: &CommandInteraction) -> Place {
    from_parts(interaction.channel_id, interaction.channel.as_ref())
}

/// The place of a button press: the channel of the message it is on.
pub fn of_press(press: &ComponentInteraction) -> Place {
    from_parts(press.channel_id, press.channel.as_ref())
}

/// The place of a submitted form: the channel it was opened in.
pub fn of_modal(submit: &ModalInteraction) -> Place {
    from_parts(submit.channel_id, submit.channel.as_ref())
}

fn from_parts(id: serenity::all::ChannelId, partial: Option<&PartialChannel>) -> Place {
    let channel = ChannelId(id.get());
    let parent = partial
        .filter(|c| c.thread_metadata.is_some() || is_thread(c.kind))
        .and_then(|c| c.parent_id)
        .map(|p| ChannelId(p.get()));
    Place { channel, parent }
}

/// Whether a channel of this kind is a thread.
pub fn is_thread(kind: serenity::all::ChannelType) -> bool {
    use serenity::all::ChannelType as T;
    matches!(kind, T::PublicThread | T::PrivateThread | T::NewsThread)
}

/// Whether the place is an age-restricted channel (a thread is as its parent is).
///
/// serenity 0.12.5's partial channel in an interaction drops Discord's `nsfw` flag, so the
/// channel is read from the REST API; this is only asked when a server's admins allowed the
/// filter off. When Discord cannot answer, the channel counts as not age-restricted: the
/// filter stays on.
pub async fn age_restricted(http: &Http, place: &Place) -> bool {
    let id = place.parent.unwrap_or(place.channel);
    match http.get_channel(serenity::all::ChannelId::new(id.0)).await {
        Ok(Channel::Guild(channel)) => channel.nsfw,
        Ok(_) => false,
        Err(e) => {
            tracing::warn!(channel = id.0, error = %e, "could not read the channel; the content filter stays on");
            false
        }
    }
}
