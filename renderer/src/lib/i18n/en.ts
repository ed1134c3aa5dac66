// English: the source dictionary. Its keys are the type every other language must match.
// Placeholders are {name}; keys ending in .one/.other are plural forms, read through tn().

export const en = {
  "app.name": "Quanta",
  "app.starting": "Starting…",

  "connection.connecting": "Connecting to Quanta…",
  "connection.waitingForDesktop": "Waiting for Quanta…",
  "connection.noTokenHint":
    "If you opened this page yourself, use the address that “quanta serve” printed: it carries the access token.",
  "connection.lost": "Connection to Quanta lost.",
  "connection.retrying": "Reconnecting automatically…",
  "connection.restartHint": "If Quanta was restarted, open the new address it printed.",
  "connection.reconnectNow": "Reconnect now",

  "language.label": "Language",
  "language.en": "English",
  "language.zh-CN": "简体中文",

  "model.label": "Model",
  "model.placeholder": "Choose a model",
  "model.unavailable": "can’t be loaded: {reason}",
  "model.load": "Load model",
  "model.rescan": "Look for new model files",
  "model.loadingLabel": "Loading model",
  "model.phase.loading": "Loading model",
  "model.phase.calibrating": "Calibrating threads",

  "engine.statusLabel": "Engine status",
  "engine.starting": "Starting the engine…",
  "engine.idle": "No model loaded",
  "engine.loading": "Loading {name}…",
  "engine.ready": "Ready",
  "engine.failed": "The engine stopped: {message}",
  "engine.restarting": "Restarting it…",
  "engine.context": "context {size}",
  "engine.threads.one": "{count} thread",
  "engine.threads.other": "{count} threads",
  "engine.threadsSource.calibrated": "calibrated",
  "engine.threadsSource.remembered": "remembered",
  "engine.threadsSource.setting": "from settings",
  "engine.threadsHow.calibrated": "Quanta measured generation speed at each thread count just now and chose the fastest.",
  "engine.threadsHow.remembered": "Measured on an earlier load of this model on this machine.",
  "engine.threadsHow.setting": "Set in your settings.",
  "engine.calibration.measuredAt": "Measured {date}",
  "engine.calibration.chosen": "chosen",
  "engine.calibration.unit": "tok/s",
  "engine.gpu": "{gpu}, {layers} layers offloaded",
  "engine.cpuOnly": "CPU only",
  "engine.loadTime": "Loaded in {seconds} s",

  "chat.log": "Messages",
  "chat.new": "New chat",
  "chat.role.user": "You",
  "chat.role.assistant": "Assistant",
  "chat.generating": "Generating",
  "chat.stats": "{speed} tok/s · {ttft} ms to first token · {tokens}",
  "chat.tokens.one": "{count} token",
  "chat.tokens.other": "{count} tokens",
  "chat.stopped": "Stopped",
  "chat.failed": "Failed: {message}",
  "chat.stopReason.max_tokens": "Reached the reply length limit",
  "chat.stopReason.context_full": "The context is full",
  "chat.empty.title": "Start a conversation",
  "chat.empty.noModel": "Choose a model above and press Load model to begin.",
  "chat.empty.loading": "The model is loading. You can start typing.",
  "chat.empty.ready": "{name} is loaded and ready.",
  "chat.loadModelFirst": "Load a model first: choose one under Model, then press Load model.",
  "chat.waitForModel": "The model is still loading. Send your message when it is ready.",

  "composer.label": "Message",
  "composer.placeholder": "Write a message",
  "composer.send": "Send",
  "composer.stop": "Stop",
  "composer.hint": "Enter to send · Shift+Enter for a new line · Esc to stop",

  "models.empty.title": "No models yet",
  "models.empty.body": "Quanta runs GGUF model files from your disk. Put a .gguf file in one of these folders:",
  "models.empty.noFolders": "No model folder is set up yet.",
  "models.empty.env":
    "Or point the {variable} environment variable at folders of your own (separate several with “{separator}”) and restart Quanta.",
  "models.empty.rescan": "Look again",

  "notice.dismiss": "Dismiss",
  "notice.unknown": "Something went wrong, and no further detail was given.",
} as const satisfies Record<string, string>;

export type MessageKey = keyof typeof en;
