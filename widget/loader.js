/* AI-Manager widget loader: the only script a host page includes. It adds a button and an isolated iframe
 * (the chat app, served by our API) and exposes window.AiManagerWidget. Messages with the iframe name the
 * exact target origin and are accepted only from that origin and that window, in a known shape. */
(function (w, d) {
  "use strict";
  if (w.AiManagerWidget && w.AiManagerWidget.version) return; // loaded twice: the first one stays
  var script = d.currentScript, cfg = w.AiManagerConfig || {};
  var key = cfg.deploymentKey || (script && script.getAttribute("data-deployment-key"));
  var frameUrl = new URL("../frame", script ? script.src : w.location.href); // the chat app lives beside us
  var api = frameUrl.origin;
  var position = cfg.position || (script && script.getAttribute("data-position")) || "bottom-right";
  var inline = position === "inline";
  var locale = cfg.locale || (script && script.getAttribute("data-locale")) || ((d.documentElement.lang || "fr").slice(0, 2) === "en" ? "en" : "fr");
  var theme = cfg.theme || "auto";
  var EVENTS = ["ready", "open", "close", "message:sent", "message:received", "file:uploading", "file:uploaded", "file:error", "error"];
  var handlers = {}, queue = [], pending = {}, seq = 0, ready = false, readyData = null, opened = inline, dead = false;
  var root, frame, button, style;

  function emit(name, data) {
    (handlers[name] || []).slice().forEach(function (cb) { try { cb(data); } catch (e) { /* a host bug stays the host's */ } });
  }
  function on(name, cb) {
    if (EVENTS.indexOf(name) >= 0 && typeof cb === "function") {
      (handlers[name] = handlers[name] || []).push(cb);
      if (name === "ready" && readyData) setTimeout(function () { cb(readyData); }, 0); // a late listener still hears it
    }
    return api_;
  }
  function off(name, cb) { handlers[name] = (handlers[name] || []).filter(function (h) { return cb && h !== cb; }); return api_; }
  function post(msg) {
    if (dead) return;
    msg.aim = 1;
    if (ready) frame.contentWindow.postMessage(msg, api); else queue.push(msg); // queued, never lost
  }
  function show(open) {
    if (dead || inline || open === opened) return;
    opened = open;
    root.setAttribute("data-open", open ? "1" : "0");
    button.setAttribute("aria-expanded", String(open));
    post({ type: open ? "open" : "close" });
    fit();
    if (open) frame.focus(); // the chat app then puts the caret in its composer
    emit(open ? "open" : "close", {});
  }
  // On a phone the open chat covers the screen; the virtual keyboard shrinks the visual viewport, so the frame
  // follows it and its composer stays visible.
  var vv = w.visualViewport;
  function fit() {
    var on = !inline && opened && vv && w.innerWidth <= 480;
    frame.style.height = on ? vv.height + "px" : "";
    frame.style.top = on ? vv.offsetTop + "px" : "";
  }
  if (vv) { vv.addEventListener("resize", fit); vv.addEventListener("scroll", fit); }
  function fail(code, message) { emit("error", { code: code, message: message }); }

  if (!key) { if (w.console) w.console.error("AI-Manager: missing data-deployment-key"); return; }
  if (cfg.onReady) on("ready", cfg.onReady);
  if (cfg.onMessage) on("message:received", cfg.onMessage);
  if (cfg.onError) on("error", cfg.onError);

  var side = position === "bottom-left" ? "left" : "right";
  style = d.createElement("style");
  style.textContent =
    ".aimw{position:fixed;bottom:20px;" + side + ":20px;z-index:2147483000}" +
    ".aimw-b{width:56px;height:56px;border-radius:50%;border:0;background:var(--aimw,#1f6feb);color:#fff;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);font:600 24px/1 sans-serif}" +
    ".aimw-b:focus-visible{outline:3px solid #000;outline-offset:2px}" +
    ".aimw iframe{position:absolute;bottom:70px;" + side + ":0;width:380px;height:min(600px,calc(100vh - 100px));border:0;border-radius:14px;box-shadow:0 8px 30px rgba(0,0,0,.25);background:#fff;display:none}" +
    ".aimw[data-open='1'] iframe{display:block}" +
    "@media (max-width:480px){.aimw[data-open='1'] iframe{position:fixed;inset:0;width:100vw;height:100%;border-radius:0}.aimw[data-open='1'] .aimw-b{display:none}}" +
    ".aimw-i iframe{width:100%;height:100%;min-height:420px;border:0;display:block}";
  d.head.appendChild(style);

  root = d.createElement("div");
  root.className = inline ? "aimw-i" : "aimw";
  root.setAttribute("data-open", "0");
  frame = d.createElement("iframe");
  frame.title = locale === "en" ? "Chat assistant" : "Assistant de discussion";
  frame.setAttribute("allow", "clipboard-write");
  // The session is kept by the chat app's own (partitioned) storage; where the browser denies a framed page
  // its storage, the host page keeps the id for it (keyed by deployment) and hands it back in the fragment.
  var storeKey = "aim:s:" + key, saved = null;
  try { saved = w.localStorage.getItem(storeKey); } catch (e) { /* storage blocked */ }
  frame.src = frameUrl.href + "?" + new URLSearchParams({ k: key, o: w.location.origin, l: locale, t: theme, m: inline ? "inline" : "float" }) + (saved ? "#s=" + encodeURIComponent(saved) : "");
  root.appendChild(frame);
  if (!inline) {
    button = d.createElement("button");
    button.type = "button";
    button.className = "aimw-b";
    button.setAttribute("aria-label", locale === "en" ? "Open the chat" : "Ouvrir la discussion");
    button.setAttribute("aria-expanded", "false");
    button.innerHTML = '<svg viewBox="0 0 24 24" width="26" height="26" aria-hidden="true"><path fill="currentColor" d="M4 3h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z"/></svg>';
    button.onclick = function () { show(!opened); };
    root.appendChild(button);
  }
  function mount() { // a loader in <head> waits for the body (and for an inline container to exist)
    if (dead) return;
    var target = inline && cfg.containerSelector ? d.querySelector(cfg.containerSelector) : null;
    (target || d.body).appendChild(root);
  }
  if (d.body) mount(); else d.addEventListener("DOMContentLoaded", mount);

  function onMessage(e) {
    var m = e.data;
    if (e.origin !== api || e.source !== frame.contentWindow || !m || m.aim !== 1 || typeof m.type !== "string") return;
    if (m.type === "ready") {
      ready = true;
      if (m.color && button) root.style.setProperty("--aimw", m.color);
      try { if (typeof m.session_id === "string") w.localStorage.setItem(storeKey, m.session_id); } catch (e) { /* blocked */ }
      if (cfg.context) post({ type: "context", data: cfg.context });
      queue.splice(0).forEach(post);
      if (opened) post({ type: "open" });
      readyData = { session_id: m.session_id };
      emit("ready", readyData);
    } else if (m.type === "close") { show(false); if (button) button.focus(); }
    else if (m.type === "error") {
      if (!ready) { // refused (site not allowed, assistant unavailable): nothing queued will ever run
        queue = [];
        Object.keys(pending).forEach(function (id) { pending[id][1](new Error(m.message || m.code)); });
        pending = {};
      }
      fail(m.code, m.message);
    }
    else if (m.type === "result" && pending[m.id]) {
      var p = pending[m.id]; delete pending[m.id];
      if (m.ok) p[0](m.data); else p[1](new Error(m.message || "upload failed"));
    } else if (EVENTS.indexOf(m.type) > 0) emit(m.type, m.data || {});
  }
  w.addEventListener("message", onMessage);

  var api_ = {
    version: "1",
    open: function () { show(true); },
    close: function () { show(false); },
    toggle: function () { show(!opened); },
    sendMessage: function (text) { if (typeof text === "string" && text.trim()) post({ type: "send", text: text }); },
    setContext: function (data) { post({ type: "context", data: data }); },
    uploadFile: function (file) {
      return new Promise(function (resolve, reject) {
        if (dead) return reject(new Error("destroyed"));
        var id = ++seq;
        pending[id] = [resolve, reject];
        post({ type: "upload", id: id, file: file });
      });
    },
    on: on,
    off: off,
    destroy: function () {
      dead = true;
      w.removeEventListener("message", onMessage);
      if (vv) { vv.removeEventListener("resize", fit); vv.removeEventListener("scroll", fit); }
      root.remove(); style.remove();
      Object.keys(pending).forEach(function (id) { pending[id][1](new Error("destroyed")); });
      handlers = {}; queue = []; pending = {};
      if (w.AiManagerWidget === api_) delete w.AiManagerWidget;
    }
  };
  w.AiManagerWidget = api_;
})(window, document);
