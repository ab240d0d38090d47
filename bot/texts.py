"""Everything newsbot says to readers (chat and terminal), in zh-Hans and English;
zh-Hant is derived with OpenCC (Taiwan forms) unless an entry spells it out."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

from summarizer.text import ZH_HANS, ZH_HANT, convert_script, detect_language, for_reader

LANGUAGES = (ZH_HANT, ZH_HANS, "en")
LANGUAGE_NAMES = {ZH_HANT: "繁體中文", ZH_HANS: "简体中文", "en": "English"}

_TEXTS: dict[str, dict[str, str]] = {
    "welcome": {
        ZH_HANS: "👋 欢迎！我每天把{region}的本地新闻摘要和天气预报推送给你。\n点下面的按钮订阅，或发送 /help 查看全部命令。",
        "en": "👋 Welcome! Every day I send you summaries of {region}'s local news and the weather forecast.\n"
        "Tap the button below to subscribe, or send /help for all commands.",
    },
    "subscribe_button": {ZH_HANS: "订阅每日推送", "en": "Subscribe to the daily digest"},
    "help_heading": {ZH_HANS: "可用命令：", "en": "Commands:"},
    "subscribed": {
        ZH_HANS: "✅ 已订阅：每天 {time}（{tz}）推送天气和新闻摘要。\n用 /time HH:MM 修改时间，/unsubscribe 退订。",
        "en": "✅ Subscribed: the weather and news digest every day at {time} ({tz}).\n"
        "Change the time with /time HH:MM; stop with /unsubscribe.",
    },
    "unsubscribed": {
        ZH_HANS: "已退订，你的设置会保留。发送 /subscribe 可随时恢复。",
        "en": "Unsubscribed. Your settings are kept; send /subscribe to start again.",
    },
    "not_subscribed": {
        ZH_HANS: "你还没有订阅。发送 /subscribe 开始。",
        "en": "You are not subscribed. Send /subscribe to start.",
    },
    "time_set": {ZH_HANS: "推送时间已改为每天 {time}（{tz}）。", "en": "Push time changed to {time} every day ({tz})."},
    "time_set_inactive": {
        ZH_HANS: "推送时间已设为 {time}（{tz}）。发送 /subscribe 开始接收推送。",
        "en": "Push time set to {time} ({tz}). Send /subscribe to start receiving it.",
    },
    "time_bad": {
        ZH_HANS: "时间格式不对：请用 24 小时制 HH:MM，例如 /time 07:30。",
        "en": "That is not a time: use 24-hour HH:MM, for example /time 07:30.",
    },
    "time_prompt": {
        ZH_HANS: "请发送新的推送时间，格式 HH:MM，例如 07:30。",
        "en": "Send the new push time as HH:MM, for example 07:30.",
    },
    "latest_bad": {
        ZH_HANS: "请给一个 1 到 {max} 之间的数字，例如 /latest 5。",
        "en": "Give a number from 1 to {max}, for example /latest 5.",
    },
    "lang_set": {ZH_HANS: "语言已设为简体中文。", "en": "Language set to English."},
    "lang_bad": {
        ZH_HANS: "不支持这个语言。可选：/lang zh-Hant（繁體）、/lang zh-Hans（简体）、/lang en（English）。",
        "en": "Unknown language. Choose /lang zh-Hant (繁體), /lang zh-Hans (简体) or /lang en (English).",
    },
    "no_news": {ZH_HANS: "暂时还没有新闻。", "en": "No news yet."},
    "settings": {
        ZH_HANS: "⚙️ 设置\n推送时间：{time}（{tz}）\n语言：{language}\n新闻模式：{mode}\n状态：{status}",
        "en": "⚙️ Settings\nPush time: {time} ({tz})\nLanguage: {language}\nNews: {mode}\nStatus: {status}",
    },
    "mode_daily": {ZH_HANS: "只推送每日摘要", "en": "daily digest only"},
    "mode_instant": {
        ZH_HANS: "每日摘要 + 即时新闻（{quiet} 静默）",
        "en": "daily digest + new stories as they arrive (quiet {quiet})",
    },
    "status_active": {ZH_HANS: "已订阅", "en": "subscribed"},
    "status_inactive": {ZH_HANS: "未订阅", "en": "not subscribed"},
    "button_type_time": {ZH_HANS: "⌨️ 输入时间", "en": "⌨️ Type a time"},
    "button_mode_daily": {ZH_HANS: "只要每日摘要", "en": "Daily digest only"},
    "button_mode_instant": {ZH_HANS: "也要即时新闻", "en": "Also new stories"},
    "button_subscribe": {ZH_HANS: "✅ 订阅", "en": "✅ Subscribe"},
    "button_unsubscribe": {ZH_HANS: "⏸ 退订", "en": "⏸ Unsubscribe"},
    "settings_more": {
        ZH_HANS: "地区：{region}\n天气提醒：{alerts}\n关注的关键词：{follows}",
        "en": "Region: {region}\nWeather alerts: {alerts}\nKeywords followed: {follows}",
    },
    "on": {ZH_HANS: "开", "en": "on"},
    "off": {ZH_HANS: "关", "en": "off"},
    "button_alerts_on": {ZH_HANS: "⛈ 开启天气提醒", "en": "⛈ Weather alerts on"},
    "button_alerts_off": {ZH_HANS: "⛈ 关闭天气提醒", "en": "⛈ Weather alerts off"},
    "button_region": {ZH_HANS: "📍 地区：{region}", "en": "📍 Region: {region}"},
    "settings_chart": {ZH_HANS: "天气图表：{chart}", "en": "Weather chart: {chart}"},
    "button_chart_on": {ZH_HANS: "📈 附上天气图表", "en": "📈 Weather chart on"},
    "button_chart_off": {ZH_HANS: "📈 不要天气图表", "en": "📈 Weather chart off"},
    # the forecast chart (bot/weather_chart.py)
    "chart_title": {ZH_HANS: "{region}未来48小时天气", "en": "{region}: the next 48 hours"},
    "chart_temperature": {ZH_HANS: "气温（℃）", "en": "Temperature (°C)"},
    "chart_precipitation": {ZH_HANS: "降水量（毫米）", "en": "Precipitation (mm)"},
    "chart_probability": {ZH_HANS: "降水概率（%）", "en": "Chance of rain (%)"},
    "chart_day": {
        ZH_HANS: "{month}月{day}日 周{weekday}",
        ZH_HANT: "{month}月{day}日 週{weekday}",
        "en": "{weekday} {day} {month_name}",
    },
    "chart_weekdays": {ZH_HANS: "一 二 三 四 五 六 日", "en": "Mon Tue Wed Thu Fri Sat Sun"},
    "chart_sample": {
        ZH_HANS: "示例数据，不是真实天气",
        ZH_HANT: "示例資料，不是真實天氣",
        "en": "Sample data, not a real forecast",
    },
    # keyword follows
    "follow_usage": {
        ZH_HANS: "请写上要关注的关键词，例如 /follow 暴雨 停电。新闻提到它们时我会立即告诉你（静默时段 {quiet} 除外）。",
        "en": "Add the words to follow, e.g. /follow flood, road works. I'll message you as soon as a new story "
        "mentions one (not during quiet hours, {quiet}).",
    },
    "follow_added": {
        ZH_HANS: "🔔 已关注：{words}。新闻提到它们时我会立即通知你（静默时段 {quiet} 除外，之后补发）。",
        "en": "🔔 Following: {words}. You'll get a message as soon as a new story mentions one "
        "(held during quiet hours, {quiet}).",
    },
    "follow_short": {ZH_HANS: "“{word}”太短，至少两个字。", "en": "“{word}” is too short: at least two characters."},
    "follow_long": {ZH_HANS: "“{word}”太长，最多 {max} 个字。", "en": "“{word}” is too long: at most {max} characters."},
    "follow_empty": {ZH_HANS: "“{word}”里没有文字。", "en": "“{word}” has no letters or characters to match."},
    "follow_already": {ZH_HANS: "“{word}”已经在关注了。", "en": "You already follow “{word}”."},
    "follow_limit": {
        ZH_HANS: "最多关注 {max} 个关键词，“{word}”没有加上。用 /follows 删除一些。",
        "en": "“{word}” was not added: at most {max} keywords. Remove some with /follows.",
    },
    "unfollow_usage": {
        ZH_HANS: "请写上要取消的关键词，例如 /unfollow 暴雨，或用 /follows 点按删除。",
        "en": "Say which words to stop following, e.g. /unfollow flood, or tap them in /follows.",
    },
    "unfollowed": {ZH_HANS: "已取消关注：{words}。", "en": "Stopped following: {words}."},
    "unfollow_none": {
        ZH_HANS: "你没有关注“{words}”。用 /follows 查看关注的关键词。",
        "en": "You don't follow “{words}”. See your keywords with /follows.",
    },
    "follows_list": {ZH_HANS: "🔔 你关注的关键词（点按删除）：", "en": "🔔 Your keywords (tap one to remove it):"},
    "follows_empty": {
        ZH_HANS: "你还没有关注关键词。例如：/follow 暴雨 停电",
        "en": "You follow no keywords yet. For example: /follow flood, power cut",
    },
    "follow_alert": {ZH_HANS: "🔔 关于“{keyword}”的新消息", "en": "🔔 New story about “{keyword}”"},
    # search
    "search_usage": {ZH_HANS: "请写上要找的词，例如 /search 高铁。", "en": "Add what to look for, e.g. /search railway."},
    "search_heading": {
        ZH_HANS: "🔎 最近 {days} 天提到“{words}”的新闻",
        "en": "🔎 Stories of the last {days} days mentioning “{words}”",
    },
    "search_none": {
        ZH_HANS: "最近 {days} 天没有新闻提到“{words}”。试试别的词或少写几个词；也可以 /follow {words}，有新闻时通知你。",
        "en": "No story of the last {days} days mentions “{words}”. Try other or fewer words, "
        "or /follow {words} to hear when one does.",
    },
    # weather alerts
    "alerts_on": {
        ZH_HANS: "⛈ 天气提醒已开启：未来一天有雷雨、暴雨、大雪、明显降温或气象预警时通知你（静默时段 {quiet} 只发最严重的）。",
        "en": "⛈ Weather alerts on: you'll hear when the coming day brings thunderstorms, heavy rain or snow, a sharp "
        "drop in temperature or a warning signal (during quiet hours, {quiet}, only the severest).",
    },
    "alerts_off": {ZH_HANS: "天气提醒已关闭。", "en": "Weather alerts off."},
    "alerts_usage": {
        ZH_HANS: "用 /alerts on 开启或 /alerts off 关闭天气提醒（现在：{state}）。",
        "en": "Use /alerts on or /alerts off (now: {state}).",
    },
    # official warnings (CAP, HKO)
    "warning_new": {ZH_HANS: "⚠️ 官方预警｜{region}", "en": "⚠️ Official warning | {region}"},
    "warning_update": {ZH_HANS: "⚠️ 预警更新｜{region}", "en": "⚠️ Warning updated | {region}"},
    "warning_lifted": {ZH_HANS: "✅ {region}：{event}已解除。", "en": "✅ {region}: {event} is lifted."},
    "warning_time": {ZH_HANS: "生效时间：{onset}至{expires}", "en": "In force: {onset} until {expires}"},
    "warning_until_cancelled": {ZH_HANS: "另行通知", "en": "further notice"},
    "warning_sender": {ZH_HANS: "发布：{sender}", "en": "Issued by {sender}"},
    "warning_original": {ZH_HANS: "（原文，语言：{language}）", "en": "(original, in {language})"},
    "warnings_in_force": {ZH_HANS: "⚠️ 生效中的官方预警：", "en": "⚠️ Official warnings in force:"},
    "warning_line": {
        ZH_HANS: "• {event}（{severity}）至{expires}：{headline}",
        "en": "• {event} ({severity}) until {expires}: {headline}",
    },
    "severity_Extreme": {ZH_HANS: "特别严重", "en": "extreme"},
    "severity_Severe": {ZH_HANS: "严重", "en": "severe"},
    "severity_Moderate": {ZH_HANS: "较重", "en": "moderate"},
    "severity_Minor": {ZH_HANS: "一般", "en": "minor"},
    "severity_Unknown": {ZH_HANS: "级别未知", "en": "severity unknown"},
    # regions
    "region_choose": {
        ZH_HANS: "📍 选择你的地区（现在：{region}），或发送你的位置：",
        "en": "📍 Choose your town (now: {region}), or share your location:",
    },
    "region_set": {
        ZH_HANS: "📍 地区已设为{region}：天气、新闻和提醒都按这里来。",
        "en": "📍 Region set to {region}: the weather, news and alerts now follow it.",
    },
    "region_nearest": {
        ZH_HANS: "📍 离你最近的是{region}（约 {km} 公里），已设为你的地区。",
        "en": "📍 The nearest town is {region} (about {km} km): it is now your region.",
    },
    "region_unknown": {
        ZH_HANS: "没有叫“{name}”的地区。可选：{names}。",
        "en": "There is no region called “{name}”. Choose one of: {names}.",
    },
    "region_only": {ZH_HANS: "本机器人只服务{region}。", "en": "This bot serves {region} only."},
    # the written lead
    "lead_rejected": {
        ZH_HANS: "ℹ️ 今天模型写的导语没有通过事实核对，以下是天气预报原文。",
        "en": "ℹ️ Today's model-written lead failed the fact check; here is the forecast instead.",
    },
    "lead_unavailable": {
        ZH_HANS: "ℹ️ 写导语的模型暂时不可用，以下是天气预报原文。",
        "en": "ℹ️ The model that writes the lead is unavailable; here is the forecast instead.",
    },
    "sources": {ZH_HANS: "📰 新闻来源：", "en": "📰 News sources:"},
    "source_ok": {ZH_HANS: "上次成功：{when}", "en": "last fetched {when}"},
    "source_never": {ZH_HANS: "尚未成功抓取", "en": "not fetched yet"},
    "source_errors": {ZH_HANS: "连续失败 {count} 次", "en": "{count} failure(s) in a row"},
    "no_sources": {ZH_HANS: "还没有配置新闻来源。", "en": "No news sources are configured."},
    # /source: the operators' live edits of the catalog (bot/telegram/source_admin.py)
    "source_usage": {
        ZH_HANS: "用法：\n/source add 网址 [名称]：添加（先试抓一次）\n/source remove|pause|resume 名称\n/source 名称：状况",
        "en": "Usage:\n/source add URL [name]: add (tried once first)\n/source remove|pause|resume NAME\n/source NAME: its health",
    },
    "source_managed": {
        ZH_HANS: "来源由配置文件管理（[catalog] managed_in = \"config\"）：请修改其中的 [[sources]] 后重启。",
        "en": 'Sources are managed in the config file ([catalog] managed_in = "config"): edit its [[sources]] and restart.',
    },
    "source_not_url": {
        ZH_HANS: "请给出 http:// 或 https:// 网址，例如 /source add https://example.org/news/",
        "en": "Give an http:// or https:// address, for example /source add https://example.org/news/",
    },
    "source_checking": {ZH_HANS: "🔎 正在试抓 {url} ……", "en": "🔎 Trying {url} …"},
    "source_found": {
        ZH_HANS: "找到{what}：{url}\n试抓列出 {count} 篇文章，前几篇：\n{titles}",
        "en": "Found {what}: {url}\nOne pass lists {count} article(s), the first ones:\n{titles}",
    },
    "source_via_alternate": {ZH_HANS: "网页指明的订阅源", "en": "the feed the page names"},
    "source_via_feed": {ZH_HANS: "订阅源", "en": "a feed"},
    "source_via_page": {ZH_HANS: "文章列表页", "en": "a listing page"},
    "source_added": {
        ZH_HANS: "✅ 已添加“{name}”，下一轮抓取时生效。\n/source {name} 查看状况；/source remove {name} 移除。",
        "en": "✅ Added “{name}”: fetched from the next round on.\n/source {name} shows its health; /source remove {name} takes it out.",
    },
    "source_add_failed": {ZH_HANS: "❌ 没有添加：{reason}", "en": "❌ Not added: {reason}"},
    "source_taken": {
        ZH_HANS: "❌ 没有添加：已经有叫“{name}”的来源。请在网址后面给出另一个名称。",
        "en": "❌ Not added: there is a source called “{name}” already. Give another name after the URL.",
    },
    "source_unknown": {ZH_HANS: "没有叫“{name}”的来源。", "en": "There is no source called “{name}”."},
    "source_did_you_mean": {ZH_HANS: "是不是：{names}？", "en": "Did you mean: {names}?"},
    "source_known": {ZH_HANS: "现有来源见 /sources。", "en": "/sources lists them."},
    "source_removed": {
        ZH_HANS: "🗑 已移除“{name}”（已抓到的文章保留）。",
        "en": "🗑 Removed “{name}” (the articles it gave are kept).",
    },
    "source_paused": {
        ZH_HANS: "⏸ 已暂停“{name}”。/source resume {name} 恢复。",
        "en": "⏸ Paused “{name}”. /source resume {name} resumes it.",
    },
    "source_resumed": {ZH_HANS: "▶️ 已恢复“{name}”，下一轮抓取。", "en": "▶️ Resumed “{name}”: fetched at the next round."},
    "source_health": {
        ZH_HANS: "📡 {name}\n{kind} · {url}\n状态：{status}\n上次成功：{success}\n上次错误：{error}\n最近 {days} 天每天的文章（UTC）：\n{chart}",
        "en": "📡 {name}\n{kind} · {url}\nStatus: {status}\nLast success: {success}\nLast error: {error}\n"
        "Articles per day, last {days} days (UTC):\n{chart}",
    },
    "source_status_ok": {ZH_HANS: "正常", "en": "ok"},
    "source_status_new": {ZH_HANS: "尚未抓取", "en": "not fetched yet"},
    "source_status_paused": {ZH_HANS: "已暂停", "en": "paused"},
    "source_status_removed": {ZH_HANS: "已移除", "en": "removed"},
    "source_none": {ZH_HANS: "无", "en": "none"},
    "stats": {
        ZH_HANS: "📊 统计\n订阅者：{subscribers}（活跃 {active}）\n今天的新故事：{stories}\n今天推送：{sent} 成功，{failed} 失败\n"
        "关注：{follows} 个关键词，{following} 个聊天",
        "en": "📊 Stats\nSubscribers: {subscribers} ({active} active)\nStories today: {stories}\n"
        "Deliveries today: {sent} sent, {failed} failed\nFollows: {follows} keywords in {following} chats",
    },
    "not_admin": {ZH_HANS: "这个命令只对管理员开放。", "en": "This command is for admins only."},
    # /stats: the faithfulness gate's acceptance per profile (bot/gate_report.py)
    "gate_heading": {ZH_HANS: "摘要（{hours} 小时）：", "en": "Summaries ({hours} h):"},
    "gate_none": {ZH_HANS: "• 没有新摘要", "en": "• none made"},
    "gate_profile": {
        ZH_HANS: "• {profile}：模型 {accepted}/{total}（{share}%）",
        "en": "• {profile}: {accepted}/{total} model ({share}%)",
    },
    "gate_extractive": {ZH_HANS: "• {profile}：{count}（抽取式）", "en": "• {profile}: {count} (extractive)"},
    "gate_fallbacks": {ZH_HANS: "；回退：{reasons}", "en": "; fallbacks: {reasons}"},
    "fetch_started": {ZH_HANS: "开始抓取……", "en": "Fetching…"},
    "fetch_queued": {
        ZH_HANS: "已请求抓取：工作进程将在一分钟内抓取所有来源。",
        "en": "Fetch requested: the worker processes will fetch every source within a minute.",
    },
    "fetch_done": {
        ZH_HANS: "抓取完成：{new} 篇新文章，{errors} 个错误。",
        "en": "Fetch done: {new} new article(s), {errors} error(s).",
    },
    "unknown_command": {
        ZH_HANS: "我不认识这个命令。发送 /help 查看可用命令。",
        "en": "I don't know that command. Send /help for the list.",
    },
    "plain_text": {
        ZH_HANS: "想看新闻请发送 /latest，天气请发送 /weather，全部命令见 /help。",
        "en": "Send /latest for the news, /weather for the forecast, /help for all commands.",
    },
    "error": {ZH_HANS: "抱歉，出了点问题，请稍后再试。", "en": "Sorry, something went wrong. Please try again later."},
    "managed_chat": {
        ZH_HANS: "这个聊天的每日推送由机器人的配置（[[channels]]）设定，请联系运营者修改。",
        "en": "This chat's daily digest is set in the bot's configuration ([[channels]]); ask its operator to change it.",
    },
    "group_admins_only": {
        ZH_HANS: "在群组里，只有管理员可以修改订阅。",
        "en": "In groups, only admins can change the subscription.",
    },
    # hostile or careless use: forged buttons, floods, oversized commands
    "button_unknown": {ZH_HANS: "这个按钮已失效，请重新发送命令。", "en": "This button no longer works; send the command again."},
    "cooldown": {ZH_HANS: "请稍等 {seconds} 秒再试。", "en": "Please wait {seconds} seconds before trying again."},
    "follow_too_many": {
        ZH_HANS: "一次最多 {max} 个关键词（你写了 {count} 个），什么都没有改。",
        "en": "At most {max} keywords at once (you gave {count}); nothing was changed.",
    },
    "search_too_many": {
        ZH_HANS: "最多用 {max} 个词搜索，请少写几个。",
        "en": "Search with at most {max} words; please use fewer.",
    },
    # /forget
    "forget_confirm": {
        ZH_HANS: "要删除这个聊天的全部数据吗？包括订阅和设置、关注的关键词和推送记录，无法恢复。点下面的按钮或发送 /forget yes 确认。",
        "en": "Delete everything kept about this chat? Its subscription and settings, keywords and delivery log "
        "go, for good. Tap the button below or send /forget yes to confirm.",
    },
    "button_forget": {ZH_HANS: "🗑 删除全部数据", "en": "🗑 Delete everything"},
    "forgotten": {
        ZH_HANS: "🗑 已删除这个聊天的全部数据。发送 /start 可以重新开始。",
        "en": "🗑 Everything kept about this chat is deleted. Send /start to begin again.",
    },
    "weather": {ZH_HANS: "天气", "en": "Weather"},
    "weather_head": {ZH_HANS: "{region}天气：", "en": "{region} weather: "},
    "weather_stale": {
        ZH_HANS: "（天气服务暂时无法连接，以上为{month}月{day}日{time}的预报）",
        "en": "(The weather service is unreachable; this forecast is from {month_name} {day}, {time}.)",
    },
    "weather_sample": {
        ZH_HANS: "（示例数据：离线演示附带的预报，不是真实天气。配置 [weather] 后显示真实预报。）",
        ZH_HANT: "（示例資料：離線演示附帶的預報，不是真實天氣。設定 [weather] 後顯示真實預報。）",
        "en": "(Sample data shipped for the offline demo, not a real forecast; configure [weather] for real ones.)",
    },
    "weather_unavailable": {
        ZH_HANS: "暂时无法获取天气预报，请稍后再试。",
        ZH_HANT: "暫時無法取得天氣預報，請稍後再試。",
        "en": "The weather forecast is unavailable right now; please try again later.",
    },
    "weather_off": {
        ZH_HANS: "本服务未接入天气预报。",
        ZH_HANT: "本服務未接入天氣預報。",
        "en": "This service has no weather forecast configured.",
    },
    "weather_last_bulletin": {
        ZH_HANS: "最近一次气象台预报发布于 {year}年{month}月{day}日，已过期。",
        ZH_HANT: "最近一次氣象臺預報發布於 {year}年{month}月{day}日，已過期。",
        "en": "The last weather bureau forecast was issued on {month_name} {day}, {year} and has expired.",
    },
    "news": {ZH_HANS: "新闻", "en": "News"},
    "new_stories": {ZH_HANS: "🆕 新消息", "en": "🆕 New stories"},
    "fallback_note": {
        ZH_HANS: "ℹ️ 部分摘要为原文摘录（摘要模型暂未就绪）。",
        "en": "ℹ️ Some summaries are excerpts of the article (the summarization model is not ready).",
    },
    "source": {ZH_HANS: "来源", "en": "Source"},
    # after a summary shown in its original language (no translation for the reader)
    "in_original": {ZH_HANS: "（{language}原文）", "en": "(in {language})"},
    "language_zh": {ZH_HANS: "中文", "en": "Chinese"},
    "language_en": {ZH_HANS: "英文", "en": "English"},
    # the status page (bot/console/status_page.py)
    "console_title": {ZH_HANS: "newsbot 运行状态", "en": "newsbot status"},
    "console_updated": {ZH_HANS: "数据时间 {time}（每 {seconds} 秒刷新）", "en": "As of {time} (refreshes every {seconds} s)"},
    "console_waiting": {ZH_HANS: "正在读取数据……", "en": "Reading the numbers…"},
    "console_sources": {ZH_HANS: "新闻来源", "en": "Sources"},
    "console_source": {ZH_HANS: "来源", "en": "Source"},
    "console_status": {ZH_HANS: "状态", "en": "Status"},
    "console_last_success": {ZH_HANS: "上次成功", "en": "Last success"},
    "console_per_day": {ZH_HANS: "每日文章（{days} 天，UTC）", "en": "Articles a day ({days} days, UTC)"},
    "console_error": {ZH_HANS: "错误", "en": "Error"},
    "console_ok": {ZH_HANS: "正常", "en": "OK"},
    "console_never": {ZH_HANS: "尚未抓取", "en": "not fetched yet"},
    "console_failing": {ZH_HANS: "失败 {count} 次", "en": "failing ({count}×)"},
    "console_down": {ZH_HANS: "中断（失败 {count} 次）", "en": "down ({count}×)"},
    "console_paused": {ZH_HANS: "已暂停", "en": "paused"},
    "console_no_sources": {ZH_HANS: "还没有新闻来源。", "en": "No sources yet."},
    "console_gate": {ZH_HANS: "摘要质量（24 小时）", "en": "Summaries (24 h)"},
    "console_deliveries": {ZH_HANS: "推送（24 小时）", "en": "Pushes (24 h)"},
    "console_kind": {ZH_HANS: "类型", "en": "Kind"},
    "console_sent": {ZH_HANS: "成功", "en": "Sent"},
    "console_failed": {ZH_HANS: "失败", "en": "Failed"},
    "console_sending": {ZH_HANS: "发送中", "en": "Sending"},
    "console_top_failures": {ZH_HANS: "常见失败原因：", "en": "Commonest failures:"},
    "console_no_deliveries": {ZH_HANS: "24 小时内没有推送。", "en": "No pushes in the last 24 hours."},
    "console_queues": {ZH_HANS: "队列", "en": "Queues"},
    "console_queue_pending_summaries": {ZH_HANS: "待摘要文章", "en": "Articles waiting for a summary"},
    "console_queue_due_pushes": {ZH_HANS: "到期推送", "en": "Pushes due"},
    "console_queue_page_retries": {ZH_HANS: "待重试页面", "en": "Pages to retry"},
    "console_subscribers": {ZH_HANS: "订阅（活跃）", "en": "Subscriptions (active)"},
    "console_processes": {ZH_HANS: "进程", "en": "Processes"},
    "console_role": {ZH_HANS: "角色", "en": "Role"},
    "console_process": {ZH_HANS: "进程", "en": "Process"},
    "console_started": {ZH_HANS: "启动于", "en": "Started"},
    "console_heartbeat": {ZH_HANS: "心跳", "en": "Heartbeat"},
    "console_silent": {ZH_HANS: "无响应", "en": "silent"},
    "console_errors_hour": {ZH_HANS: "1 小时内错误", "en": "Errors (1 h)"},
    # alerts to telegram.admins (bot/console/admin_alerts.py)
    "admin_problems": {ZH_HANS: "⚠️ newsbot 出现问题：", "en": "⚠️ newsbot has problems:"},
    "admin_cleared": {ZH_HANS: "✅ 已恢复：", "en": "✅ Cleared:"},
    "admin_source_down": {
        ZH_HANS: "来源 {source} 已失败 {hours} 小时以上：{error}",
        "en": "source {source} has been failing for over {hours} h: {error}",
    },
    "admin_fallbacks": {
        ZH_HANS: "摘要配置 {profile}：最近 {total} 篇摘要中有 {fallen} 篇改用了抽取式（主要原因：{reason}）",
        "en": "profile {profile}: {fallen} of its last {total} summaries fell back to extracts (mostly: {reason})",
    },
    # the whole story inside Telegram (bot/telegraph.py) and news pictures
    "button_full_text": {ZH_HANS: "📄 全文", "en": "📄 Full text"},
    "full_text_page": {ZH_HANS: "📄 全文：{link}", "en": "📄 Full text: {link}"},
    "full_text_gone": {
        ZH_HANS: "这条新闻已经不在了，请发送 /latest 查看最新新闻。",
        "en": "That story is no longer kept; send /latest for the newest ones.",
    },
    "full_text_cut": {
        ZH_HANS: "（文章较长，这里只有前面部分，全文请看来源网页。）",
        "en": "(A long article: this is its first part; the source has the rest.)",
    },
    "photos_setting": {ZH_HANS: "新闻配图：{state}", "en": "News pictures: {state}"},
    "button_photos_on": {ZH_HANS: "🖼 新闻配图", "en": "🖼 Pictures with news"},
    "button_photos_off": {ZH_HANS: "🖼 不要配图", "en": "🖼 No pictures"},
    "admin_deliveries": {
        ZH_HANS: "推送：过去 1 小时 {total} 次中有 {failed} 次失败",
        "en": "pushes: {failed} of {total} failed in the last hour",
    },
    "admin_errors": {
        ZH_HANS: "{process}（{role}）1 小时内出现 {count} 个未处理的错误，最近一个：{error}",
        "en": "{count} unhandled error(s) in the last hour in {process} ({role}); the latest: {error}",
    },
}

_HANT_UI_TERMS = {"設置": "設定"}  # Traditional readers' words for the interface, beyond the script


def localized(entry: Mapping[str, str], language: str) -> str:
    """``entry`` (written in zh-Hans and en; zh-Hant too where OpenCC's wording is not what
    readers use) in ``language``: zh-Hant converted from zh-Hans, other languages English."""
    if language == ZH_HANT:
        return entry[ZH_HANT] if ZH_HANT in entry else _traditional(entry[ZH_HANS])
    return entry.get(language) or entry["en"]


@cache
def _traditional(text: str) -> str:
    text = convert_script(text, ZH_HANT)
    for term, replacement in _HANT_UI_TERMS.items():
        text = text.replace(term, replacement)
    return text


def t(key: str, lang: str, **values: object) -> str:
    """The text ``key`` in language ``lang``, with ``values`` filled in."""
    text = localized(_TEXTS[key], lang if lang in LANGUAGES else "en")
    return text.format(**values) if values else text


def language_from_telegram(code: str | None) -> str | None:
    """zh-hant/zh-tw/zh-hk → zh-Hant; zh-hans/zh-cn/zh → zh-Hans; en → en; else None."""
    if not code:
        return None
    code = code.lower().replace("_", "-")
    if code in ("zh-hant", "zh-tw", "zh-hk", "zh-mo") or code.startswith("zh-hant"):
        return ZH_HANT
    if code == "zh" or code.startswith(("zh-hans", "zh-cn", "zh-sg")):
        return ZH_HANS
    if code.split("-")[0] == "en":
        return "en"
    return None


def name_for_reader(name: str, language: str) -> str:
    """A place's name as a reader of ``language`` writes it (Chinese in the reader's script)."""
    return for_reader(name, detect_language(name), language)
