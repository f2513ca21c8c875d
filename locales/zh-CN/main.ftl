# seedance-bot，简体中文：成员和管理员看到的文字。
# 数字、时长和时间按语言格式化；提示词和服务商自己的消息原样显示。

## 单位和短词

unit-seconds = { $n } 秒
wait-seconds = { $s }秒
wait-minutes = { $m }分{ $s }秒
time-utc = { $year }年{ $month }月{ $day }日 { $hm } (UTC)
word-on = 开
word-off = 关
word-none = 无
list-separator = {"，"}
sentence = { $text }。
kind-image = 图片
kind-video = 视频
kind-audio = 音频
a-kind-image = 图片
a-kind-video = 视频
a-kind-audio = 音频文件
options-image = `image` 至 `image4`
options-video = `video` 或 `video2`
options-audio = `audio`
by-its-name = 按文件名判断
no-file-type = 没有文件类型

## 请求无效的原因（句子中间部分）

invalid-empty-prompt = 提示词为空：请描述你想要的视频
invalid-prompt-too-long = 提示词有 { $chars } 个字符，上限是 { $max }：请缩短
invalid-too-many-of-kind = 提供了 { $count } 个{ $kind }参考，最多允许 { $max } 个：请删除一些
invalid-too-many-references = 提供了 { $count } 个参考，总共最多允许 { $max } 个：请删除一些
invalid-audio-alone = 音频至少需要搭配一个图片或视频参考：请添加一个，或删除音频
invalid-file-format = `{ $file }` 的类型是 { $found }，但服务商只接受 { $accepted } 格式的{ $kind }参考：请转换后重新附加
invalid-file-too-large = `{ $file }` 约 { $size } MB，但服务商接受的{ $kind }文件最大为 { $max } MB：请附加更小的文件
invalid-bad-url = `{ $url }` 不是可用的参考链接：{ $why }
invalid-duration = 这里不允许 { $seconds } 秒的时长：请在 { $min } 到 { $max } 秒之间选择
bad-url-not-url = 这不是有效的网址；请粘贴完整的 https:// 链接
bad-url-not-https = 只接受 https:// 链接
bad-url-credentials = 不接受包含用户名或密码的链接
bad-url-no-host = 链接没有主机名
bad-url-private-host = 链接指向私有或本地主机；请使用公开链接
bad-url-private-address = 链接指向私有或本地地址；请使用公开链接

## 服务器规则

settings-channel = 本服务器只允许在 { $allowed } 使用 `/video`：请到那里使用（服务器管理员可以用 `/video-admin allow-channel` 更改）。
settings-resolution = 本服务器只允许最高 { $max } 的视频：请选择 { $max } 或更低（服务器管理员可以用 `/video-admin limits` 更改）。
settings-duration = 本服务器只允许最长 { $max } 秒的视频：请选择更短的时长（服务器管理员可以用 `/video-admin limits` 更改）。
settings-web-search = 本服务器不允许使用 `web_search`：请关闭它（服务器管理员可以用 `/video-admin web-search` 更改）。
settings-cooldown = 本服务器要求成员两次生成视频之间等待 { $cooldown } 秒：请在 { $wait } 秒后再试。
settings-role = 本服务器只允许拥有以下身份组之一的成员生成视频：{ $roles }（服务器管理员可以用 `/video-admin allow-role` 更改）。

## 积分

ledger-insufficient = 积分池可用 { $available } 积分，而这个视频需要 { $needed }
ledger-daily-cap = 你今天已使用每日 { $cap } 积分中的 { $used }，而这个视频需要 { $needed }；额度将于 { $resets } 重置
ledger-invalid-amount = 金额无效：{ $why }。
ledger-other = { $why }。
rate-limited = 你使用命令太快了（每 { $window } 秒最多 { $burst } 次）：请等待 { $wait } 秒后再试。

## 拒绝（未扣除任何积分）

refusal-invalid = 无法制作这个视频：{ $why }。未扣除任何积分。
refusal-not-allowed = { $why }未扣除任何积分。
refusal-too-many-active = 你已有 { $active } 个任务在进行中（最新的是 `{ $latest }`）；请等待它完成或取消它。未扣除任何积分。
refusal-credits = 积分不足：{ $why }。未扣除任何积分；可以试试更短或分辨率更低的视频，或请服务器管理员增加积分。
refusal-no-price = 机器人没有 { $what } 的价格；请让运营者设置 credits.price_per_second（有音频的视频还需设置 credits.audio_price_per_second）。
refusal-rate = { $why }未扣除任何积分。
refusal-file = 无法使用这个文件：{ $why }。未扣除任何积分。
refusal-wrong-option = `{ $option }` 接受{ $expected }，但 `{ $file }` 是{ $found }（{ $how }）：请改为附加到 { $options }。
refusal-unknown-file = `{ $option }` 接受{ $expected }，但无法判断 `{ $file }` 是什么（{ $how }）：请附加{ $expected }文件。
refusal-not-a-link = `{ $link }` 不是链接。
refusal-link-kind = 无法判断 `{ $link }` 是图片、视频还是音频：请写成 `image:{ $link }`、`video:{ $link }` 或 `audio:{ $link }`。
refusal-stale-links = 有 { $count } 个参考文件的链接已过期或将在一分钟内过期（Discord 的文件链接大约有效一天）：请重新附加文件使用 `/video`。未扣除任何积分。
video-dm = `/video` 只能在服务器中使用：视频由服务器的共享积分池支付，私信中没有积分池。请在有这个机器人的服务器中使用。

## 错误

error-server-only = 只能在服务器中使用：每个服务器有自己的积分池。
error-out-of-date = 这个命令已过时；需要运营者重新注册命令。
error-internal = 我们这边出了问题；未扣除任何积分。请稍后再试。
error-not-here = 你不能在这里使用这个命令。
error-panic = 我们这边出了问题。如果你请求了视频，请在重试前用 `/jobs` 查看它是否已被接受。
error-bad-option = 无法读取其中一个选项；请检查后再试。
error-member-permission = 你需要 { $permission } 权限才能这样做。
error-member-permissions = 你没有这个命令需要的权限。
error-bot-permission = 我需要在这个频道中的 { $permission } 权限。
error-not-owner = 只有机器人的运营者可以这样做。
error-guild-only = 这个命令只能在服务器中使用。
error-dm-only = 这个命令只能在私信中使用。
error-cooldown = 请等待 { $secs } 秒后再使用。
operators-grant = 只有机器人的运营者可以发放积分。
operators-link = 只有机器人的运营者可以关联积分池。
operators-unlink = 只有机器人的运营者可以取消关联积分池。
error-after-recorded = 你的视频已被记录（任务 `{ $key }`）后我们这边出了问题：已为它冻结 { $amount } 积分，`/jobs` 中可以看到。请不要再次请求：那会为第二个视频扣费。
error-unchecked = 我们这边出了问题，无法确认是否已扣费：再次请求前请先查看 `/jobs`。
accepted-unseen = 你的视频已被接受（任务 `{ $id }`）：已为它冻结 { $cost } 积分，它会运行；`/jobs` 中可以看到。显示任务卡片时出了问题，所以你可能在这里看不到卡片或它的子区。再次请求会制作并扣费第二个视频。

## 任务卡片（服务器的语言）

card-title = 视频任务
card-title-simulated = 视频任务（模拟：不会生成真实视频）
card-state = 状态
card-queue = 排队位置
card-queue-value = 第 { $place } 位，大约还需等待 { $wait }
card-cost = 费用
card-cost-refunded = { $cost } 积分（已退还）
card-cost-paid = { $cost } 积分（已支付）
card-cost-held = { $cost } 积分（冻结至视频完成）
card-parameters = 参数
card-parameters-value = { $resolution } · { $ratio } · { $duration } · 音频{ $audio } · 联网搜索{ $web }
card-filter-off = {" "}· 内容过滤**关闭**（年龄限制频道）
card-requested-by = 请求者
card-references = 参考
card-more-references = …… 还有 { $count } 个
card-result = 结果
card-footer = 任务 { $id }
card-footer-no-thread = {" "}· 我无法在这里创建子区，因此更新会发在这个频道
button-cancel = 取消
button-run-again = 再来一次
state-queued = 排队中
state-submitting = 正在发送给服务商
state-running = 生成中（{ $provider }）
state-done = 完成
state-failed = 失败：{ $reason }
state-timed-out = 超时：机器人已停止等待
state-cancelled = 已取消
label-queued = 排队中
label-submitting = 发送中
label-running = 生成中
label-succeeded = 已完成
label-failed = 失败
label-timed-out = 超时
label-cancelled = 已取消

## 最终消息（服务器的语言）

final-refund = { $amount } 积分已退回积分池。
final-simulated = （模拟：这只是占位内容，服务商那边没有消耗积分）
final-ready =
    { $who } 你的视频已完成{ $note }：
    { $urls }
final-failed = { $who } 你的视频未能生成：{ $reason }。{ $refund }
final-timed-out = { $who } 你的视频没有在时限内完成，所以我停止了等待。{ $refund }
final-cancelled = { $who } 你的视频已取消。{ $refund }
final-other = { $who } 你的视频状态：{ $state }。

## 按钮

cancelled = 已取消：{ $amount } 积分已退回积分池。
cancel-refused = 无法取消：{ $why }。
cancel-unknown = 没有这个任务
cancel-not-owner = 只有请求这个任务的成员才能取消它
cancel-started = 这个任务已发送给服务商（{ $state }），不能再取消
run-again-unknown = 我已不再记得这个任务；请改用 `/video`。

## /credits

balance-pool = **积分池**：可用 { $available } 积分，{ $held } 积分为进行中的视频冻结。
balance-today = **你今天**：{ $today }；{ $source }。
balance-cap-member = 适用你自己的上限
balance-cap-role = 适用 { $role } 的上限（你各身份组上限中最高的）
balance-cap-default = 适用服务器的默认上限
balance-jobs = **你进行中的任务**：{ $jobs }。
balance-prices = **每秒价格**：{ $prices }。
balance-capped = 已用每日 { $cap } 积分中的 { $used }（于 { $resets } 重置）
balance-uncapped = 已用 { $used } 积分（无每日上限）
balance-job = `{ $id }` { $state }（{ $cost } 积分）
price = { $resolution }：{ $price }/秒
price-with-audio = { $resolution }：{ $price }/秒（有音频时 +{ $audio }/秒）
history-not-manager = 你需要“管理服务器”权限才能查看其他成员的记录。
history-empty = 还没有记录。
history-granted = 发放 +{ $amount }
history-removed = 发放 -{ $amount }
history-held = 冻结 { $amount }
history-spent = 花费 { $amount }
history-refunded = 退还 { $amount }
history-default-cap = 默认每日上限设为 { $amount }
history-member-cap = 成员每日上限设为 { $amount }
history-role-cap = 身份组每日上限设为 { $amount }
history-row = `{ $at }` { $what }{ $who }：{ $reason }（可用 { $available }）
granted = 已发放 { $amount } 积分。积分池现在可用 { $available }。
cap-not-manager = 你需要“管理服务器”权限才能设置上限。
cap-negative = 上限不能为负数；0 表示无上限。
cap-member = { $who } 现在每天可以花费{ $amount }积分。
cap-default = 成员现在默认每天可以花费{ $amount }积分。
cap-role = 拥有 { $role } 的成员现在每天可以花费{ $amount }积分（成员自己的上限优先；有多个带上限的身份组时，取最高的）。
cap-user-and-role = 请指定一位成员或一个身份组，不要同时指定。
cap-any = 任意数量的
cap-up-to = 最多 { $amount }{" "}
link-bad-server = `server` 必须是服务器 ID（一个数字；开启开发者模式后右键点击服务器并复制其 ID）。
link-self = 这就是本服务器：要回到它自己的积分池，请使用 `/credits unlink`。
linked = 本服务器现在使用积分池 { $pool }（与服务器 { $with } 共享），可用 { $available } 积分。
unlinked = 本服务器重新使用自己的积分池 { $pool }，可用 { $available } 积分。

## /jobs

jobs-not-manager = 你需要“管理服务器”权限才能查看其他成员的任务。
jobs-none = { $who } 在这里还没有任务。
jobs-card-link = {" "}[卡片]({ $url })
jobs-line = `{ $id }` { $state } · { $cost } 积分 · { $prompt }{ $link }{ $result }

## /video-admin

admin-not-manager = 你需要“管理服务器”权限才能更改 `/video` 在这里的设置。
admin-everywhere = 所有频道
admin-no-limit = 无限制
admin-allowed = 允许
admin-not-allowed = 不允许
admin-filter-always = 始终开启
admin-filter-off-age-restricted = 在年龄限制频道关闭
admin-language-auto = { $language }（服务器的语言；未设置）
admin-show-channels = **频道**：{ $channels }
admin-show-largest = **最大视频**：{ $resolution }，{ $duration }
admin-show-defaults = **默认值**：{ $resolution }，{ $ratio }，{ $duration }
admin-show-cooldown = **成员冷却时间**：{ $value }
admin-show-web-search = **联网搜索**：{ $value }
admin-show-filter = **内容过滤**：{ $value }
admin-show-language = **公开消息的语言**：{ $value }
admin-channel-allowed = 现在可以在 { $channel } 使用 `/video`。
admin-channel-disallowed = { $channel } 已从允许的频道列表中移除。
admin-any-channel = 现在可以在所有频道使用 `/video`。
admin-limits-updated = 限制已更新。
admin-default-duration-range = 默认时长必须在 { $min } 到 { $max } 秒之间（或 0 表示机器人的默认值）。
admin-defaults-updated = 默认值已更新。
admin-cooldown-negative = 冷却时间不能为负数；0 表示无冷却。
admin-cooldown-set = 成员现在两次生成视频之间需等待 { $wait }。
admin-web-search-on = 成员现在可以使用 `web_search`。
admin-web-search-off = 成员现在不能再使用 `web_search`。
admin-filter-on = 内容过滤现在始终开启。
admin-filter-off = 在年龄限制频道中生成的视频现在关闭内容过滤，其他地方仍然开启。
admin-language-set = 本服务器的任务卡片、子区消息和最终提醒现在使用{ $language }。

## 注册的命令（中文客户端显示的名称和说明）

cmd-video = 视频
    .desc = 用提示词和参考素材生成视频，费用从服务器积分中支付
cmd-video-opt-prompt = 提示词
    .desc = 视频应该呈现的内容
cmd-video-opt-image = 图片
    .desc = 参考图片
cmd-video-opt-image2 = 图片2
    .desc = 第二张参考图片
cmd-video-opt-image3 = 图片3
    .desc = 第三张参考图片
cmd-video-opt-image4 = 图片4
    .desc = 第四张参考图片
cmd-video-opt-video = 视频
    .desc = 参考视频（它应如何运动）
cmd-video-opt-video2 = 视频2
    .desc = 第二个参考视频
cmd-video-opt-audio = 音频
    .desc = 参考音频（还需要图片或视频）
cmd-video-opt-references = 参考链接
    .desc = 更多 https 链接，用空格分隔；不明确时加前缀 image:、video: 或 audio:
cmd-video-opt-ratio = 宽高比
    .desc = 宽高比
cmd-video-opt-resolution = 分辨率
    .desc = 分辨率（决定价格）
cmd-video-opt-duration = 时长
    .desc = 时长（秒）
cmd-video-opt-generate_audio = 生成音频
    .desc = 生成配乐
cmd-video-opt-web_search = 联网搜索
    .desc = 让模型联网搜索背景信息
choice-16-9 = 16:9
choice-9-16 = 9:16
choice-1-1 = 1:1
choice-3-4 = 3:4
choice-480p = 480p
choice-720p = 720p
choice-1080p = 1080p
choice-always-on = 始终开启
choice-off-in-age-restricted-channels = 在年龄限制频道关闭
choice-english = English
cmd-video-admin = 视频管理
    .desc = 本服务器的 /video 设置；仅限“管理服务器”权限
cmd-video-admin-show = 查看
    .desc = 查看本服务器的 /video 设置
cmd-video-admin-allow-channel = 允许频道
    .desc = 允许在某个频道使用 /video（一旦设置，只允许这些频道）
cmd-video-admin-allow-channel-opt-channel = 频道
    .desc = 频道（默认：当前频道）
cmd-video-admin-disallow-channel = 禁止频道
    .desc = 不再允许在某个频道使用 /video
cmd-video-admin-disallow-channel-opt-channel = 频道
    .desc = 频道（默认：当前频道）
cmd-video-admin-any-channel = 所有频道
    .desc = 重新允许在所有频道使用 /video
cmd-video-admin-limits = 限制
    .desc = 成员可以请求的最大视频
cmd-video-admin-limits-opt-max_resolution = 最高分辨率
    .desc = 最高分辨率（1080p：无限制）
cmd-video-admin-limits-opt-max_duration = 最长时长
    .desc = 最长视频秒数（0：无限制）
cmd-video-admin-defaults = 默认值
    .desc = 成员省略选项时 /video 使用的值
cmd-video-admin-defaults-opt-resolution = 分辨率
    .desc = 默认分辨率
cmd-video-admin-defaults-opt-ratio = 宽高比
    .desc = 默认宽高比
cmd-video-admin-defaults-opt-duration = 时长
    .desc = 默认时长秒数（0：机器人的默认值）
cmd-video-admin-cooldown = 冷却
    .desc = 每位成员两次生成视频之间必须等待的时间
cmd-video-admin-cooldown-opt-seconds = 秒数
    .desc = 成员两次视频之间的秒数（0：无）
cmd-video-admin-web-search = 联网搜索
    .desc = 成员是否可以让模型联网搜索
cmd-video-admin-web-search-opt-allowed = 允许
    .desc = 允许 web_search 选项
cmd-video-admin-content-filter = 内容过滤
    .desc = 服务商的内容过滤何时可以关闭
cmd-video-admin-content-filter-opt-policy = 策略
    .desc = 过滤始终开启，或仅在年龄限制频道关闭
cmd-video-admin-language = 语言
    .desc = 本服务器公开消息（任务卡片、子区）的语言
cmd-video-admin-language-opt-language = 语言
    .desc = 英语或简体中文
cmd-credits = 积分
    .desc = 服务器的积分：余额、记录、发放和每日上限
cmd-credits-balance = 余额
    .desc = 积分池的积分、你今天的用量和你进行中的任务
cmd-credits-history = 记录
    .desc = 积分池的流水：你的记录，或（需“管理服务器”权限）所有人的
cmd-credits-history-opt-user = 成员
    .desc = 只看这位成员的记录（查看他人需要“管理服务器”权限）
cmd-credits-grant = 发放
    .desc = 向积分池添加积分（负数为扣除）；仅限机器人运营者
cmd-credits-grant-opt-amount = 数量
    .desc = 要添加的积分；负数为收回
cmd-credits-grant-opt-reason = 原因
    .desc = 原因（记入流水）
cmd-credits-cap = 上限
    .desc = 设置每日积分上限：服务器默认值、某位成员的或某个身份组的；需“管理服务器”权限
cmd-credits-cap-opt-amount = 数量
    .desc = 每位成员每天的积分；0 表示无上限
cmd-credits-cap-opt-user = 成员
    .desc = 只针对这位成员
cmd-credits-cap-opt-role = 身份组
    .desc = 只针对拥有这个身份组的成员
cmd-credits-link = 关联
    .desc = 让本服务器使用另一个服务器的积分池；仅限机器人运营者
cmd-credits-link-opt-server = 服务器
    .desc = 要共享其积分池的服务器 ID
cmd-credits-unlink = 取消关联
    .desc = 让本服务器重新使用自己的积分池；仅限机器人运营者
cmd-jobs = 任务
    .desc = 你最近的视频任务（需“管理服务器”权限可查看任何人的）
cmd-jobs-opt-user = 成员
    .desc = 另一位成员（需要“管理服务器”权限）
admin-everyone = 所有人
admin-show-roles = **可以生成视频的成员**：{ $roles }
admin-role-allowed = 拥有 { $role } 的成员现在可以使用 `/video`（以及**再来一次**）。
admin-role-disallowed = { $role } 已从可以使用 `/video` 的身份组列表中移除。
admin-any-role = 现在所有成员都可以使用 `/video`，不论身份组。
cmd-video-admin-allow-role = 允许身份组
    .desc = 允许拥有某个身份组的成员使用 /video（一旦设置，只允许这些身份组）
cmd-video-admin-allow-role-opt-role = 身份组
    .desc = 身份组
cmd-video-admin-disallow-role = 禁止身份组
    .desc = 不再允许拥有某个身份组的成员使用 /video
cmd-video-admin-disallow-role-opt-role = 身份组
    .desc = 身份组
cmd-video-admin-any-role = 所有身份组
    .desc = 重新允许所有成员使用 /video，不论身份组
duration-choice = { $duration }：{ $price } 积分（积分池：{ $pool }）
duration-choice-no-price = { $duration }：{ $resolution } 没有价格
balance-default = **默认视频**（{ $resolution }，{ $duration }）：{ $price } 积分；你今天还可以生成 { $count } 个。
balance-default-no-price = **默认视频**（{ $resolution }，{ $duration }）：机器人没有它的价格。
cmd-make-a-video = 生成视频
form-title = 生成视频
form-prompt = 提示词
form-placeholder = 视频应该呈现的内容
form-no-files = 这条消息没有可用来生成视频的图片、视频或音频文件（也没有图片链接）：请在有这些文件的消息上使用**生成视频**，或使用 `/video`。未扣除任何积分。
form-file-kind = 无法使用 `{ $file }`（{ $how }）：它不是图片、视频或音频。可以作为参考的是图片（JPEG、PNG、WebP）、视频（MP4、MOV）和音频（WAV、MP3）。未扣除任何积分。
form-expired = 这个表单已关闭（表单有效 15 分钟，机器人重启也会关闭它）：请在消息上再次使用**生成视频**。未扣除任何积分。
jobs-reason-separator = {"："}
reason-refused = 服务商拒绝了请求（{ $message }）；请修改提示词或参考后再试
reason-not-taken = 服务商无法接受这个任务（{ $error }）；你的积分已退还
reason-not-made = 服务商未能生成视频
reason-not-made-message = 服务商未能生成视频：{ $message }
reason-not-made-code = 服务商未能生成视频（代码 { $code }）
reason-expired = 你的 { $count } 个文件的链接在任务开始前已过期；你的积分已退还。请重新附加文件，再次使用 `/video`
reason-account = 机器人的服务商账户需要运营者处理；你的积分已退还
reason-gave-up = 服务商出了问题，多次尝试后仍未接受任务；你的积分已退还，请稍后再试
reason-no-video = 服务商报告成功但没有发送视频；你的积分已退还
reason-task-lost = 服务商已不再知道这个任务；你的积分已退还
reason-restarted = 机器人在把这个任务发送给服务商时重启了，因此结果未知；你的积分已退还，请重试

## 超过价格需审批（/video-admin approval，任务卡片上的“批准”和“拒绝”）

state-awaiting-approval = 等待审批：由服务器管理员决定是否生成
label-awaiting-approval = 等待审批
state-rejected = 生成前已被拒绝
label-rejected = 已拒绝
state-approval-expired = 未在时限内获批
label-approval-expired = 未在时限内获批
card-cost-awaiting = { $cost } 积分（等待审批期间冻结；如被拒绝则退还）
card-approval = 审批
card-approved-by = 由 { $who } 批准
card-rejected-by = 由 { $who } 拒绝
card-nobody-decided = 无人在时限内处理
button-approve = 批准
button-reject = 拒绝
final-rejected = { $who } 你的视频未获批准：{ $by } 在生成前拒绝了它。为它冻结的 { $amount } 积分已退回积分池：已退款，未扣除任何积分。
final-approval-expired = { $who } 你的视频没有在时限内获批，因此没有生成。为它冻结的 { $amount } 积分已退回积分池：已退款，未扣除任何积分。
approval-unknown = 我不知道这个任务；没有任何改动。
approval-not-allowed = 只有拥有“管理服务器”权限的成员才能在这里批准或拒绝视频。没有任何改动。
approval-not-allowed-role = 只有拥有“管理服务器”权限或 { $role } 的成员才能在这里批准或拒绝视频。没有任何改动。
approval-own-job = 没有“管理服务器”权限时，你不能批准自己的视频：需要由其他审批人决定。没有任何改动。
approval-approved = 已批准：视频进入队列；它的 { $cost } 积分会一直冻结到视频完成。
approval-rejected = 已拒绝：为它冻结的 { $amount } 积分已退回积分池，并已通知该成员。
approval-decided = 这个视频已不在等待审批（当前：{ $state }）。没有任何改动。
history-approved = 由 { $by } 批准
history-rejected = 由 { $by } 拒绝
history-approval-expired = 未在时限内获批
admin-show-approval = **审批**：{ $value }；{ $approvers }
admin-approval-off = 关闭（视频无需审批）
admin-approval-above = 费用超过 { $amount } 积分的视频需要审批
admin-approvers-role = 由拥有“管理服务器”权限或 { $role } 的成员审批
admin-approvers-managers = 由拥有“管理服务器”权限的成员审批
admin-approval-range = 价格必须在 0（无需审批）到 1000000000000 积分之间。
admin-approval-set = 现在费用超过 { $amount } 积分的视频需要先获批准才会进入队列（期间积分被冻结；如被拒绝或未在时限内获批，积分退回积分池）。
admin-approval-set-off = 视频不再需要审批。
admin-approver-set = 拥有 { $role } 的成员现在可以批准或拒绝待审批的视频（拥有“管理服务器”权限的成员同样可以）。
admin-approver-cleared = 现在只有拥有“管理服务器”权限的成员可以批准或拒绝待审批的视频。
cmd-video-admin-approval = 审批
    .desc = 费用超过某个价格的视频需经管理员批准后才会生成
cmd-video-admin-approval-opt-above = 超过
    .desc = 积分；费用更高的视频需要审批（0：从不）
cmd-video-admin-approver = 审批人
    .desc = 除“管理服务器”权限外，谁可以审批视频（不填身份组：仅限“管理服务器”）
cmd-video-admin-approver-opt-role = 身份组
    .desc = 身份组（不填则只有“管理服务器”权限的成员可以审批）
cancel-ended = 这个任务已经结束（{ $state }）

# Turned away while the bot drains before a restart.
bot-restarting = 机器人正在重启，请一分钟后再试。
