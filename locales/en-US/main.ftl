# seedance-bot, English (United States): the words members and admins read.
# Numbers, durations and times come formatted for the language; prompts and the
# provider's own messages are passed through unchanged.

## Units and small words

unit-seconds = { $n } s
wait-seconds = { $s }s
wait-minutes = { $m }m { $s }s
time-utc = { $year }-{ $month }-{ $day } { $hm } UTC
word-on = on
word-off = off
word-none = none
list-separator = {", "}
sentence = { $text }.
kind-image = image
kind-video = video
kind-audio = audio
a-kind-image = an image
a-kind-video = a video
a-kind-audio = an audio file
options-image = `image` to `image4`
options-video = `video` or `video2`
options-audio = `audio`
by-its-name = by its name
no-file-type = no file type

## Why a request is not valid (the middle of a sentence)

invalid-empty-prompt = the prompt is empty: describe the video you want
invalid-prompt-too-long = the prompt is { $chars } characters long; the limit is { $max }: shorten it
invalid-too-many-of-kind = { $count } { $kind } references were given; at most { $max } are allowed: remove some
invalid-too-many-references = { $count } references were given; at most { $max } are allowed in all: remove some
invalid-audio-alone = audio needs at least one image or video reference to go with it: add one, or remove the audio
invalid-file-format = `{ $file }` is { $found }, but the provider takes { $kind } references as { $accepted } only: convert it and attach it again
invalid-file-too-large = `{ $file }` is about { $size } MB, but the provider takes { $kind } files up to { $max } MB: attach a smaller file
invalid-bad-url = `{ $url }` is not a usable reference link: { $why }
invalid-duration = a duration of { $seconds } s is not allowed here: choose between { $min } and { $max } seconds
bad-url-not-url = it is not a valid URL; paste the full https:// link
bad-url-not-https = only https:// links are accepted
bad-url-credentials = links with a user name or password in them are not accepted
bad-url-no-host = it has no host
bad-url-private-host = it points at a private or local host; use a public link
bad-url-private-address = it points at a private or local address; use a public link

## A server's rules

settings-channel = This server allows `/video` only in { $allowed }: use it there (a server admin can change this with `/video-admin allow-channel`).
settings-resolution = This server allows videos up to { $max } only: choose { $max } or lower (a server admin can change this with `/video-admin limits`).
settings-duration = This server allows videos up to { $max } seconds only: choose a shorter duration (a server admin can change this with `/video-admin limits`).
settings-web-search = This server does not allow `web_search`: leave it off (a server admin can change this with `/video-admin web-search`).
settings-cooldown = This server asks members to wait { $cooldown } s between videos: try again in { $wait } s.
settings-role = This server lets members with one of these roles make videos: { $roles } (a server admin can change this with `/video-admin allow-role`).

## Credits

ledger-insufficient = the pool has { $available } credits available and this video needs { $needed }
ledger-daily-cap = you have used { $used } of your { $cap } daily credits and this video needs { $needed }; your allowance resets at { $resets }
ledger-invalid-amount = Invalid amount: { $why }.
ledger-other = { $why }.
rate-limited = You are using commands too fast (at most { $burst } every { $window } s): wait { $wait } s and try again.

## Refusals (nothing was charged)

refusal-invalid = I can't make this video: { $why }. Nothing was charged.
refusal-not-allowed = { $why } Nothing was charged.
refusal-too-many-active = You already have { $active } job(s) in progress (the latest is `{ $latest }`); wait for it to finish or cancel it. Nothing was charged.
refusal-credits = Not enough credits: { $why }. Nothing was charged; try a shorter or lower-resolution video, or ask a server admin for more credits.
refusal-no-price = The bot has no price for { $what }; ask its operator to set credits.price_per_second (and credits.audio_price_per_second for videos with audio).
refusal-rate = { $why } Nothing was charged.
refusal-file = I can't use this file: { $why }. Nothing was charged.
refusal-wrong-option = `{ $option }` takes { $expected }, but `{ $file }` is { $found } ({ $how }): attach it to { $options } instead.
refusal-unknown-file = `{ $option }` takes { $expected }, but I can't tell what `{ $file }` is ({ $how }): attach { $expected } file.
refusal-not-a-link = `{ $link }` is not a link.
refusal-link-kind = I can't tell whether `{ $link }` is an image, a video or audio: write it as `image:{ $link }`, `video:{ $link }` or `audio:{ $link }`.
refusal-stale-links = The links to { $count } of the reference files have expired or expire within a minute (Discord's file links last about a day): use `/video` with fresh files. Nothing was charged.
video-dm = `/video` works in servers: videos are paid from a server's shared credit pool, and there is none in a DM. Use it in a server that has the bot.

## Errors

error-server-only = This works in a server only: each server has its own credit pool.
error-out-of-date = This command is out of date; an operator needs to re-register the commands.
error-internal = Something went wrong on our side; nothing was charged. Please try again later.
error-not-here = You cannot use this command here.
error-panic = Something went wrong on our side. If you asked for a video, `/jobs` shows whether it was accepted before you try again.
error-bad-option = I could not read one of the options; please check them and try again.
error-member-permission = You need the { $permission } permission for this.
error-member-permissions = You do not have the permissions this command needs.
error-bot-permission = I need the { $permission } permission in this channel.
error-not-owner = Only the bot's operators can do that.
error-guild-only = This command works in a server only.
error-dm-only = This command works in DMs only.
error-cooldown = Please wait { $secs } s before using this again.
operators-grant = Only the bot's operators can grant credits.
operators-link = Only the bot's operators can link pools.
operators-unlink = Only the bot's operators can unlink pools.
error-after-recorded = Something went wrong on our side after your video was recorded (job `{ $key }`): { $amount } credits are held for it and `/jobs` shows it. Please don't ask again: that would charge a second video.
error-unchecked = Something went wrong on our side and I could not check whether anything was charged: look at `/jobs` before asking again.
accepted-unseen = Your video was accepted (job `{ $id }`): { $cost } credits are held for it and it will run; `/jobs` shows it. Something went wrong while showing its card, so you may not see the card or its thread here. Asking again would make and charge a second video.

## The job card (the server's language)

card-title = Video job
card-title-simulated = Video job (simulated: no real video is made)
card-state = State
card-queue = Queue position
card-queue-value = #{ $place }, about { $wait } to wait
card-cost = Cost
card-cost-refunded = { $cost } credits (refunded)
card-cost-paid = { $cost } credits (paid)
card-cost-held = { $cost } credits (held until the video is made)
card-parameters = Parameters
card-parameters-value = { $resolution } · { $ratio } · { $duration } · audio { $audio } · web search { $web }
card-filter-off = {" "}· content filter **off** (age-restricted channel)
card-requested-by = Requested by
card-references = References
card-more-references = … and { $count } more
card-result = Result
card-footer = Job { $id }
card-footer-no-thread = {" "}· I cannot make a thread here, so updates are posted in this channel
button-cancel = Cancel
button-run-again = Run again
state-queued = Queued
state-submitting = Sending to the provider
state-running = Generating ({ $provider })
state-done = Done
state-failed = Failed: { $reason }
state-timed-out = Timed out: the bot stopped waiting for it
state-cancelled = Cancelled
label-queued = queued
label-submitting = submitting
label-running = running
label-succeeded = succeeded
label-failed = failed
label-timed-out = timed out
label-cancelled = cancelled

## The final message (the server's language)

final-refund = {" "}{ $amount } credits went back to the pool.
final-simulated = {" "}(simulated: this is a placeholder, no credits were spent upstream)
final-ready =
    { $who } your video is ready{ $note }:
    { $urls }
final-failed = { $who } your video could not be made: { $reason }.{ $refund }
final-timed-out = { $who } your video was not ready within the time limit, so I stopped waiting for it.{ $refund }
final-cancelled = { $who } your video was cancelled.{ $refund }
final-other = { $who } your video is { $state }.

## Buttons

cancelled = Cancelled: { $amount } credits went back to the pool.
cancel-refused = I can't cancel that: { $why }.
cancel-unknown = there is no such job
cancel-not-owner = only the member who asked for this job can cancel it
cancel-started = this job has already been sent to the provider ({ $state }) and can no longer be cancelled
run-again-unknown = I no longer know that job; use `/video` instead.

## /credits

balance-pool = **Pool**: { $available } credits available, { $held } held for videos in progress.
balance-today = **You today**: { $today }; { $source }.
balance-cap-member = your own cap applies
balance-cap-role = the cap of { $role } applies (the highest of your roles' caps)
balance-cap-default = the server's default cap applies
balance-jobs = **Your active jobs**: { $jobs }.
balance-prices = **Price per second**: { $prices }.
balance-capped = { $used } of your { $cap } daily credits (resets { $resets })
balance-uncapped = { $used } credits (no daily cap)
balance-job = `{ $id }` { $state } ({ $cost } credits)
price = { $resolution }: { $price }/s
price-with-audio = { $resolution }: { $price }/s (+{ $audio }/s with audio)
history-not-manager = You need the Manage Server permission to see another member's history.
history-empty = No entries yet.
history-granted = granted +{ $amount }
history-removed = granted -{ $amount }
history-held = held { $amount }
history-spent = spent { $amount }
history-refunded = refunded { $amount }
history-default-cap = default daily cap set to { $amount }
history-member-cap = member daily cap set to { $amount }
history-role-cap = role daily cap set to { $amount }
history-row = `{ $at }` { $what }{ $who }: { $reason } ({ $available } available)
granted = Granted { $amount } credits. The pool now has { $available } available.
cap-not-manager = You need the Manage Server permission to set caps.
cap-negative = A cap cannot be negative; use 0 for no cap.
cap-member = { $who } may now spend { $amount } credits a day.
cap-default = Members may now spend { $amount } credits a day by default.
cap-role = Members with { $role } may now spend { $amount } credits a day (a member's own cap comes first; with several capped roles, the highest applies).
cap-user-and-role = Name a member or a role, not both.
cap-any = any number of
cap-up-to = up to { $amount }
link-bad-server = `server` must be a server id (a number; right-click the server with Developer Mode on and copy its id).
link-self = That is this server: to go back to its own pool, use `/credits unlink`.
linked = This server now spends from pool { $pool } (shared with server { $with }), which has { $available } credits available.
unlinked = This server spends from its own pool { $pool } again, which has { $available } credits available.

## /jobs

jobs-not-manager = You need the Manage Server permission to see another member's jobs.
jobs-none = { $who } has no jobs here yet.
jobs-card-link = {" "}[card]({ $url })
jobs-line = `{ $id }` { $state } · { $cost } credits · { $prompt }{ $link }{ $result }

## /video-admin

admin-not-manager = You need the Manage Server permission to change how `/video` works here.
admin-everywhere = everywhere
admin-no-limit = no limit
admin-allowed = allowed
admin-not-allowed = not allowed
admin-filter-always = always on
admin-filter-off-age-restricted = off in age-restricted channels
admin-language-auto = { $language } (the server's language; not chosen)
admin-show-channels = **Channels**: { $channels }
admin-show-largest = **Largest video**: { $resolution }, { $duration }
admin-show-defaults = **Defaults**: { $resolution }, { $ratio }, { $duration }
admin-show-cooldown = **Cooldown per member**: { $value }
admin-show-web-search = **Web search**: { $value }
admin-show-filter = **Content filter**: { $value }
admin-show-language = **Language of public messages**: { $value }
admin-channel-allowed = `/video` is now allowed in { $channel }.
admin-channel-disallowed = { $channel } is no longer on the list of allowed channels.
admin-any-channel = `/video` is now allowed in every channel.
admin-limits-updated = Limits updated.
admin-default-duration-range = A default duration must be between { $min } and { $max } seconds (or 0 for the bot's default).
admin-defaults-updated = Defaults updated.
admin-cooldown-negative = A cooldown cannot be negative; use 0 for none.
admin-cooldown-set = Members now wait { $wait } between videos.
admin-web-search-on = Members may now use `web_search`.
admin-web-search-off = Members may no longer use `web_search`.
admin-filter-on = The content filter is now always on.
admin-filter-off = The content filter is now off for videos made in age-restricted channels, and on everywhere else.
admin-language-set = Job cards, thread messages and the final ping in this server are now in { $language }.

## Commands as registered (English is the default; these document the ids)

cmd-video = video
    .desc = Make a video from a prompt and references, paid from the server's credits
cmd-video-opt-prompt = prompt
    .desc = What the video should show
cmd-video-opt-image = image
    .desc = A reference image
cmd-video-opt-image2 = image2
    .desc = A second reference image
cmd-video-opt-image3 = image3
    .desc = A third reference image
cmd-video-opt-image4 = image4
    .desc = A fourth reference image
cmd-video-opt-video = video
    .desc = A reference video (how it should move)
cmd-video-opt-video2 = video2
    .desc = A second reference video
cmd-video-opt-audio = audio
    .desc = Reference audio (needs an image or video too)
cmd-video-opt-references = references
    .desc = More https links, space separated; prefix image:, video: or audio: when unclear
cmd-video-opt-ratio = ratio
    .desc = Aspect ratio
cmd-video-opt-resolution = resolution
    .desc = Resolution (sets the price)
cmd-video-opt-duration = duration
    .desc = Length in seconds
cmd-video-opt-generate_audio = generate_audio
    .desc = Generate a soundtrack
cmd-video-opt-web_search = web_search
    .desc = Let the model search the web for context
choice-16-9 = 16:9
choice-9-16 = 9:16
choice-1-1 = 1:1
choice-3-4 = 3:4
choice-480p = 480p
choice-720p = 720p
choice-1080p = 1080p
choice-always-on = always on
choice-off-in-age-restricted-channels = off in age-restricted channels
choice-english = English
cmd-video-admin = video-admin
    .desc = Server settings for /video; Manage Server only
cmd-video-admin-show = show
    .desc = Show this server's /video settings
cmd-video-admin-allow-channel = allow-channel
    .desc = Allow /video in a channel (once any is allowed, only those)
cmd-video-admin-allow-channel-opt-channel = channel
    .desc = The channel (default: this one)
cmd-video-admin-disallow-channel = disallow-channel
    .desc = Stop allowing /video in a channel
cmd-video-admin-disallow-channel-opt-channel = channel
    .desc = The channel (default: this one)
cmd-video-admin-any-channel = any-channel
    .desc = Allow /video in every channel again
cmd-video-admin-limits = limits
    .desc = The largest video members may ask for
cmd-video-admin-limits-opt-max_resolution = max_resolution
    .desc = Highest resolution (1080p: no limit)
cmd-video-admin-limits-opt-max_duration = max_duration
    .desc = Longest video in seconds (0: no limit)
cmd-video-admin-defaults = defaults
    .desc = What /video uses when a member leaves an option out
cmd-video-admin-defaults-opt-resolution = resolution
    .desc = Default resolution
cmd-video-admin-defaults-opt-ratio = ratio
    .desc = Default aspect ratio
cmd-video-admin-defaults-opt-duration = duration
    .desc = Default length in seconds (0: the bot's default)
cmd-video-admin-cooldown = cooldown
    .desc = Time each member must wait between starting two videos
cmd-video-admin-cooldown-opt-seconds = seconds
    .desc = Seconds between a member's videos (0: none)
cmd-video-admin-web-search = web-search
    .desc = Whether members may let the model search the web
cmd-video-admin-web-search-opt-allowed = allowed
    .desc = Allow the web_search option
cmd-video-admin-content-filter = content-filter
    .desc = When the provider's content filter may be off
cmd-video-admin-content-filter-opt-policy = policy
    .desc = The filter is always on, or off in age-restricted channels only
cmd-video-admin-language = language
    .desc = The language of the server's public messages (job cards, threads)
cmd-video-admin-language-opt-language = language
    .desc = English or Simplified Chinese
cmd-credits = credits
    .desc = The server's credits: balance, history, grants and daily caps
cmd-credits-balance = balance
    .desc = The pool's credits, your usage today and your active jobs
cmd-credits-history = history
    .desc = The pool's journal: your entries, or everyone's with Manage Server
cmd-credits-history-opt-user = user
    .desc = Only this member's entries (Manage Server needed for others)
cmd-credits-grant = grant
    .desc = Add credits to the pool (negative to remove); bot operators only
cmd-credits-grant-opt-amount = amount
    .desc = Credits to add; negative to take back
cmd-credits-grant-opt-reason = reason
    .desc = Why (kept in the journal)
cmd-credits-cap = cap
    .desc = Set the daily credit cap: the server's default, one member's or a role's; Manage Server only
cmd-credits-cap-opt-amount = amount
    .desc = Credits per member per day; 0 for no cap
cmd-credits-cap-opt-user = user
    .desc = Only this member
cmd-credits-cap-opt-role = role
    .desc = Only members holding this role
cmd-credits-link = link
    .desc = Make this server spend from another server's pool; bot operators only
cmd-credits-link-opt-server = server
    .desc = The id of the server whose pool this one should share
cmd-credits-unlink = unlink
    .desc = Make this server spend from its own pool again; bot operators only
cmd-jobs = jobs
    .desc = Your recent video jobs (Manage Server: anyone's)
cmd-jobs-opt-user = user
    .desc = Another member (Manage Server needed)
admin-everyone = everyone
admin-show-roles = **Who may make videos**: { $roles }
admin-role-allowed = Members with { $role } may now use `/video` (and **Run again**).
admin-role-disallowed = { $role } is no longer on the list of roles that may use `/video`.
admin-any-role = Every member may now use `/video`, whatever their roles.
cmd-video-admin-allow-role = allow-role
    .desc = Let members with a role use /video (once any role is allowed, only those)
cmd-video-admin-allow-role-opt-role = role
    .desc = The role
cmd-video-admin-disallow-role = disallow-role
    .desc = Stop letting members with a role use /video
cmd-video-admin-disallow-role-opt-role = role
    .desc = The role
cmd-video-admin-any-role = any-role
    .desc = Let every member use /video again, whatever their roles
duration-choice = { $duration }: { $price } credits (pool: { $pool })
duration-choice-no-price = { $duration }: no price for { $resolution }
balance-default = **A default video** ({ $resolution }, { $duration }): { $price } credits; you can make { $count } more today.
balance-default-no-price = **A default video** ({ $resolution }, { $duration }): the bot has no price for it.
cmd-make-a-video = Make a video
form-title = Make a video
form-prompt = Prompt
form-placeholder = What the video should show
form-no-files = This message has no image, video or audio file (nor an image link) to make a video from: use **Make a video** on a message that has one, or `/video`. Nothing was charged.
form-file-kind = I can't use `{ $file }` ({ $how }): it is not an image, a video or audio. Images (JPEG, PNG, WebP), videos (MP4, MOV) and audio (WAV, MP3) can be references. Nothing was charged.
form-expired = This form is no longer open (a form lasts 15 minutes, and a restart of the bot closes it): use **Make a video** on the message again. Nothing was charged.
jobs-reason-separator = {": "}
reason-refused = the provider refused the request ({ $message }); change the prompt or references and try again
reason-not-taken = the provider could not take the job ({ $error }); your credits are back
reason-not-made = the provider could not make the video
reason-not-made-message = the provider could not make the video: { $message }
reason-not-made-code = the provider could not make the video (code { $code })
reason-expired = the link(s) to { $count } of your files expired before the job could start; your credits are back. Use `/video` again with the files attached afresh
reason-account = the bot's provider account needs its operator's attention; your credits are back
reason-gave-up = the provider is having trouble and did not take the job after several tries; your credits are back, please try again later
reason-no-video = the provider reported success but sent no video; your credits are back
reason-task-lost = the provider no longer knows this task; your credits are back
reason-restarted = the bot restarted while sending this job to the provider, so its outcome is unknown; your credits are back, please try again

## Approval above a price (/video-admin approval, the card's Approve and Reject)

state-awaiting-approval = Waiting for approval: a server admin decides whether it is made
label-awaiting-approval = awaiting approval
state-rejected = Rejected before it was made
label-rejected = rejected
state-approval-expired = Not approved in time
label-approval-expired = not approved in time
card-cost-awaiting = { $cost } credits (held while it waits for approval; refunded if it is rejected)
card-approval = Approval
card-approved-by = approved by { $who }
card-rejected-by = rejected by { $who }
card-nobody-decided = nobody decided in time
button-approve = Approve
button-reject = Reject
final-rejected = { $who } your video was not approved: { $by } rejected it before it was made. The { $amount } credits held for it went back to the pool: refunded, nothing charged.
final-approval-expired = { $who } your video was not approved in time, so it was not made. The { $amount } credits held for it went back to the pool: refunded, nothing charged.
approval-unknown = I don't know that job; nothing changed.
approval-not-allowed = Only members with the Manage Server permission can approve or reject videos here. Nothing changed.
approval-not-allowed-role = Only members with the Manage Server permission or { $role } can approve or reject videos here. Nothing changed.
approval-own-job = You cannot approve your own video without the Manage Server permission: another approver has to decide. Nothing changed.
approval-approved = Approved: the video joins the queue; its { $cost } credits stay held until it is made.
approval-rejected = Rejected: the { $amount } credits held for it went back to the pool, and the member is told.
approval-decided = This video is no longer waiting for approval (it is { $state }). Nothing changed.
history-approved = approved by { $by }
history-rejected = rejected by { $by }
history-approval-expired = not approved in time
admin-show-approval = **Approval**: { $value }; { $approvers }
admin-approval-off = off (no video waits for approval)
admin-approval-above = videos costing more than { $amount } credits wait for approval
admin-approvers-role = decided by members with Manage Server or { $role }
admin-approvers-managers = decided by members with Manage Server
admin-approval-range = The price must be between 0 (no approval) and 1000000000000 credits.
admin-approval-set = Videos costing more than { $amount } credits now wait for approval before they are queued (their credits are held meanwhile, and go back to the pool if they are rejected or not approved in time).
admin-approval-set-off = Videos no longer wait for approval.
admin-approver-set = Members with { $role } may now approve or reject held videos (as may members with Manage Server).
admin-approver-cleared = Only members with Manage Server may now approve or reject held videos.
cmd-video-admin-approval = approval
    .desc = Hold videos costing more than a price until an admin approves them
cmd-video-admin-approval-opt-above = above
    .desc = Credits; a video costing more waits for approval (0: never)
cmd-video-admin-approver = approver
    .desc = Who may approve held videos, besides Manage Server (no role: Manage Server only)
cmd-video-admin-approver-opt-role = role
    .desc = The role (leave out to let only Manage Server decide)
cancel-ended = this job has already ended ({ $state })

# Turned away while the bot drains before a restart.
bot-restarting = The bot is restarting; try again in a minute.
