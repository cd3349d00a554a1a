/* AI-Manager chat app (inside the iframe or the standalone page /s/{token}). Vanilla JS, no framework.
 * Model output is never parsed as HTML: replies are rendered by building DOM nodes from a small markdown subset. */
(function (w, d) {
  "use strict";
  var C = JSON.parse(d.getElementById("aim-config").textContent);
  // The API is beside this page, under the same stage prefix when there is one.
  var API = w.location.pathname.replace(/\/(widget\/v1\/frame|s\/[^/]*)$/, "") + "/api/widget/v1";
  var T = {
    fr: {
      close: "Fermer", attach: "Joindre une photo ou un PDF", message: "Votre message", send: "Envoyer",
      placeholder: "Écrivez votre message…", denied: "Cet assistant n'est pas autorisé sur ce site.",
      unavailable: "L'assistant est indisponible pour le moment.", failed: "La réponse n'a pas pu être générée. Réessayez.",
      expired: "Ce lien n'est plus valide.", upfail: "Envoi du fichier impossible", uploaded: "Fichier envoyé",
      quote: "Pré-devis", item: "Désignation", qty: "Qté", unit: "Unité", pu: "PU HT", total: "Total HT",
      tht: "Total HT", tva: "TVA", tttc: "Total TTC", you: "Vous", bot: "Assistant", typing: "L'assistant écrit…"
    },
    en: {
      close: "Close", attach: "Attach a photo or a PDF", message: "Your message", send: "Send",
      placeholder: "Type your message…", denied: "This assistant is not authorised on this site.",
      unavailable: "The assistant is unavailable right now.", failed: "The reply could not be generated. Please retry.",
      expired: "This link is no longer valid.", upfail: "The file could not be sent", uploaded: "File sent",
      quote: "Pre-quote", item: "Item", qty: "Qty", unit: "Unit", pu: "Unit price", total: "Total excl. VAT",
      tht: "Total excl. VAT", tva: "VAT", tttc: "Total incl. VAT", you: "You", bot: "Assistant", typing: "The assistant is typing…"
    }
  };
  var L = T[C.l] || T.fr;
  var $ = function (s) { return d.querySelector(s); };
  var app = $("#app"), log = $(".log"), box = $("textarea"), form = $(".composer"), typing = $(".typing");
  var fileInput = $("input[type=file]"), filesBox = $(".files"), notice = $(".notice");
  var framed = C.m !== "standalone" && w.parent !== w;
  var storeKey = "aim:s:" + C.k, session = C.sid || null, context = null, busy = 0, ready = false, born = Date.now();

  function abs(rel) { return rel ? new URL(API + "/" + rel, w.location.href).href : null; }
  function el(tag, cls, text) {
    var n = d.createElement(tag);
    if (cls) n.className = cls;
    if (text != null) n.textContent = text;
    return n;
  }
  function tell(type, data, extra) { // to the host page, naming its exact origin
    if (!framed || !C.o) return;
    var msg = { aim: 1, type: type, data: data };
    for (var k in extra || {}) msg[k] = extra[k];
    w.parent.postMessage(msg, C.o);
  }
  function framedByHost() { // our parent is the host site the page was served for (ancestorOrigins, else Referer)
    if (!framed || !C.o) return false;
    var a = w.location.ancestorOrigins;
    if (a && a.length) return a[0] === C.o;
    try { return !!d.referrer && new URL(d.referrer).origin === C.o; } catch (e) { return false; }
  }
  function store(v) { try { if (v) w.localStorage.setItem(storeKey, v); else w.localStorage.removeItem(storeKey); } catch (e) { /* storage blocked */ } }
  function stored() { try { return w.localStorage.getItem(storeKey); } catch (e) { return null; } }

  function call(method, path, body) {
    var h = { "X-Deployment-Key": C.k };
    if (C.tok) h["X-Widget-Token"] = C.tok;
    if (session) h["X-Session-ID"] = session;
    if (body) h["Content-Type"] = "application/json";
    return fetch(API + path, { method: method, headers: h, body: body ? JSON.stringify(body) : undefined, credentials: "omit" })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (j) {
          if (!r.ok || !j.success) {
            var e = new Error((j.error && j.error.message) || r.status); e.code = (j.error && j.error.code) || String(r.status); e.status = r.status;
            // The page token lasts hours: a tab left open longer reloads the page for a fresh one (never in a loop).
            if (e.code === "invalid_widget_token" && Date.now() - born > 60000) w.location.reload();
            throw e;
          }
          return j.data;
        });
      });
  }

  // ---------------------------------------------------------------- safe rendering (markdown subset)
  function inline(parent, text) {
    var re = /\*\*([^*]+)\*\*|\[([^\]]+)\]\((https?:\/\/[^\s)]+)\)|`([^`]+)`/g, last = 0, m;
    while ((m = re.exec(text))) {
      if (m.index > last) parent.appendChild(d.createTextNode(text.slice(last, m.index)));
      if (m[1]) parent.appendChild(el("strong", null, m[1]));
      else if (m[2]) { var a = el("a", null, m[2]); a.href = m[3]; a.target = "_blank"; a.rel = "noopener noreferrer nofollow"; parent.appendChild(a); }
      else parent.appendChild(el("code", null, m[4]));
      last = re.lastIndex;
    }
    if (last < text.length) parent.appendChild(d.createTextNode(text.slice(last)));
  }
  function money(v) { return typeof v === "number" ? v.toLocaleString(C.l === "en" ? "en-GB" : "fr-FR", { minimumFractionDigits: 2, maximumFractionDigits: 2 }) + " €" : String(v == null ? "" : v); }
  function pick(o, names) { for (var i = 0; i < names.length; i++) if (o[names[i]] != null) return o[names[i]]; return ""; }
  function quoteTable(raw) {
    var q;
    try { q = JSON.parse(raw); } catch (e) { return null; }
    if (!q || typeof q !== "object") return null;
    var wrap = el("figure", "quote"), t = el("table"), head = el("tr");
    wrap.appendChild(el("figcaption", null, q.title || L.quote));
    [L.item, L.qty, L.unit, L.pu, L.total].forEach(function (h) { head.appendChild(el("th", null, h)); });
    var thead = el("thead"); thead.appendChild(head); t.appendChild(thead);
    var body = el("tbody");
    (Array.isArray(q.items) ? q.items : []).forEach(function (it) {
      var tr = el("tr");
      tr.appendChild(el("td", null, String(pick(it, ["designation", "label", "description", "name"]))));
      tr.appendChild(el("td", "n", String(pick(it, ["quantite", "quantity", "qty"]))));
      tr.appendChild(el("td", null, String(pick(it, ["unite", "unit"]))));
      tr.appendChild(el("td", "n", money(pick(it, ["prix_unitaire_ht", "unit_price_ht", "unit_price"]))));
      tr.appendChild(el("td", "n", money(pick(it, ["total_ht", "total"]))));
      body.appendChild(tr);
    });
    t.appendChild(body);
    var foot = el("tfoot");
    [[L.tht, money(q.total_ht)], [L.tva, q.tva_rate != null ? String(q.tva_rate).replace(/^0?\.(\d+)$/, function (_, x) { return Math.round(parseFloat("0." + x) * 100); }) + " %" : ""], [L.tttc, money(q.total_ttc)]]
      .forEach(function (r) { var tr = el("tr"), th = el("th", null, r[0]); th.colSpan = 4; tr.appendChild(th); tr.appendChild(el("td", "n", r[1])); foot.appendChild(tr); });
    t.appendChild(foot);
    wrap.appendChild(t);
    return wrap;
  }
  function render(text) {
    var out = el("div", "md"), lines = String(text).split("\n"), i = 0, list = null, para = null;
    function flush() { para = null; list = null; }
    while (i < lines.length) {
      var line = lines[i], fence = /^```\s*([\w-]*)\s*$/.exec(line);
      if (fence) {
        var buf = []; i++;
        while (i < lines.length && !/^```\s*$/.test(lines[i])) buf.push(lines[i++]);
        i++; flush();
        var table = fence[1] === "json-quote" ? quoteTable(buf.join("\n")) : null;
        out.appendChild(table || el("pre", null, buf.join("\n")));
        continue;
      }
      var li = /^\s*(?:[-*•]|(\d+)[.)])\s+(.*)$/.exec(line);
      if (li) {
        var kind = li[1] ? "ol" : "ul";
        if (!list || list.tagName.toLowerCase() !== kind) { list = el(kind); out.appendChild(list); para = null; }
        var item = el("li"); inline(item, li[2]); list.appendChild(item);
      } else if (!line.trim()) flush();
      else {
        list = null;
        if (para) para.appendChild(el("br")); else { para = el("p"); out.appendChild(para); }
        inline(para, line.replace(/^#{1,6}\s+/, ""));
      }
      i++;
    }
    return out;
  }

  // ---------------------------------------------------------------- messages
  function scroll() { log.scrollTop = log.scrollHeight; }
  function bubble(role, text, opts) {
    var li = el("li", "msg " + role);
    li.setAttribute("aria-label", role === "user" ? L.you : L.bot);
    if (opts && opts.node) li.appendChild(opts.node);
    else if (role === "user" || role === "system") li.appendChild(el("div", "txt", text));
    else li.appendChild(render(text));
    if (opts && opts.error) li.classList.add("err");
    log.appendChild(li);
    scroll();
    return li;
  }
  function setBusy(delta) {
    busy = Math.max(0, busy + delta);
    typing.hidden = busy === 0;
    typing.setAttribute("aria-label", L.typing);
    scroll();
  }
  function poll(id, done) {
    var tries = 0;
    (function tick() {
      call("GET", "/message/" + encodeURIComponent(id) + "/status").then(function (s) {
        if (s.status === "completed") return done(null, s.content || "");
        if (s.status === "failed") return done(new Error((s.error && s.error.message) || L.failed));
        setTimeout(tick, tries++ < 20 ? 400 : 1500);
      }, function (e) { if (tries++ < 40) setTimeout(tick, 1500); else done(e); });
    })();
  }
  function send(text) {
    text = String(text || "").trim();
    if (!text || !ready) return;
    bubble("user", text);
    var cid = "c" + Date.now().toString(36) + Math.random().toString(36).slice(2, 10);
    var body = { content: text, client_message_id: cid };
    if (context) body.context = context;
    setBusy(1);
    tell("message:sent", { text: text });
    call("POST", "/message", body).then(function (q) {
      poll(q.message_id, function (err, reply) {
        setBusy(-1);
        if (err) { bubble("assistant", err.message || L.failed, { error: true }); tell("error", null, { code: "reply_failed", message: String(err.message) }); return; }
        bubble("assistant", reply);
        tell("message:received", { message_id: q.message_id, text: reply });
      });
    }, function (e) {
      setBusy(-1);
      bubble("assistant", e.message || L.failed, { error: true });
      tell("error", null, { code: e.code, message: e.message });
    });
  }

  // ---------------------------------------------------------------- uploads (straight to storage, with progress)
  var TYPES = { "image/jpeg": 1, "image/png": 1, "image/webp": 1, "application/pdf": 1 };
  function upload(file) {
    return new Promise(function (resolve, reject) {
      if (!(file instanceof w.Blob) || !ready) return reject(new Error(L.upfail));
      var name = file.name || "file", card = el("div", "file"), bar = el("progress");
      bar.max = 100; bar.value = 0;
      if (/^image\//.test(file.type)) { var img = el("img"); img.alt = name; img.src = URL.createObjectURL(file); card.appendChild(img); }
      card.appendChild(el("span", "name", name)); card.appendChild(bar); filesBox.appendChild(card);
      function fail(e) {
        card.classList.add("err"); bar.remove(); card.appendChild(el("span", "why", L.upfail + " : " + (e.message || "")));
        tell("file:error", { name: name, code: e.code || "upload_failed", message: e.message });
        setTimeout(function () { card.remove(); }, 6000);
        reject(e);
      }
      if (!TYPES[file.type]) { var e = new Error(C.l === "en" ? "JPG, PNG, WEBP or PDF only." : "JPG, PNG, WEBP ou PDF uniquement."); e.code = "unsupported_type"; return fail(e); }
      call("POST", "/upload", { session_id: session, file_name: name, content_type: file.type, size: file.size }).then(function (u) {
        var fd = new FormData();
        Object.keys(u.upload.fields).forEach(function (k) { fd.append(k, u.upload.fields[k]); });
        fd.append("file", file);
        var x = new XMLHttpRequest();
        x.open("POST", u.upload.url);
        x.upload.onprogress = function (ev) {
          if (!ev.lengthComputable) return;
          bar.value = Math.round(ev.loaded / ev.total * 100);
          tell("file:uploading", { file_id: u.file_id, name: name, progress: bar.value });
        };
        x.onerror = function () { fail(new Error("network")); };
        x.onload = function () {
          if (x.status >= 300) return fail(new Error(String(x.status)));
          call("POST", "/upload/" + encodeURIComponent(u.file_id) + "/complete").then(function (f) {
            bar.remove(); card.classList.add("ok");
            var info = { file_id: f.file_id, name: name, content_type: f.content_type, size: f.size, thumbnail_url: abs(f.thumbnail_url), url: abs(f.url) };
            if (info.thumbnail_url) { var t = card.querySelector("img") || el("img"); t.alt = name; t.src = info.thumbnail_url; t.className = "thumb"; card.insertBefore(t, card.firstChild); }
            bubble("system", L.uploaded + " : " + name);
            tell("file:uploaded", info);
            resolve(info);
          }, fail);
        };
        x.send(fd);
      }, fail);
    });
  }

  // ---------------------------------------------------------------- host page messages
  w.addEventListener("message", function (e) {
    var m = e.data;
    // Only the host page that framed us (its origin was checked by the server and by frame-ancestors).
    if (!framed || e.origin !== C.o || e.source !== w.parent || !m || m.aim !== 1 || typeof m.type !== "string") return;
    if (m.type === "send" && typeof m.text === "string") send(m.text);
    else if (m.type === "context" && m.data && typeof m.data === "object") context = m.data;
    else if (m.type === "open") { setTimeout(function () { box.focus(); }, 50); }
    else if (m.type === "upload" && typeof m.id === "number") {
      upload(m.file).then(function (f) { tell("result", f, { id: m.id, ok: true }); },
        function (err) { tell("result", null, { id: m.id, ok: false, message: String(err.message) }); });
    }
  });

  // ---------------------------------------------------------------- start
  function stop(text, code) {
    notice.textContent = text; notice.hidden = false;
    app.classList.add("off"); box.disabled = true; app.setAttribute("aria-busy", "false");
    tell("error", null, { code: code, message: text });
  }
  function theme() {
    var dark = C.t === "dark" || (C.t !== "light" && w.matchMedia && w.matchMedia("(prefers-color-scheme: dark)").matches);
    d.documentElement.setAttribute("data-theme", dark ? "dark" : "light");
  }
  function start() {
    theme();
    d.documentElement.setAttribute("data-mode", C.m);
    d.querySelectorAll("[data-i18n-label]").forEach(function (n) { n.setAttribute("aria-label", L[n.getAttribute("data-i18n-label")]); });
    d.querySelectorAll("[data-i18n-title]").forEach(function (n) { n.title = L[n.getAttribute("data-i18n-title")]; });
    typing.setAttribute("aria-label", L.typing);
    if (C.err) return stop(L[C.err === "origin_not_allowed" || C.err === "framed_only" ? "denied" : C.err === "invalid_share_token" ? "expired" : "unavailable"], C.err);
    var close = $(".x");
    if (C.m === "float") { close.hidden = false; close.onclick = function () { tell("close"); }; }
    d.addEventListener("keydown", function (e) { if (e.key === "Escape" && C.m === "float") tell("close"); });
    box.addEventListener("keydown", function (e) { if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); } });
    box.addEventListener("input", function () { box.style.height = "auto"; box.style.height = Math.min(box.scrollHeight, 120) + "px"; });
    form.addEventListener("submit", function (e) { e.preventDefault(); var v = box.value; box.value = ""; box.style.height = "auto"; send(v); });
    fileInput.addEventListener("change", function () { Array.prototype.forEach.call(fileInput.files, function (f) { upload(f).catch(function () {}); }); fileInput.value = ""; });
    if (w.visualViewport) { // the virtual keyboard shrinks the visual viewport: keep the composer above it
      var fit = function () { d.documentElement.style.setProperty("--vh", w.visualViewport.height + "px"); scroll(); };
      w.visualViewport.addEventListener("resize", fit); fit();
    }
    // #s= is the host page's copy of the session id (for a frame denied its storage): honoured only inside the
    // allowed host's frame, never on a page opened on its own (session fixation), and dropped from the URL.
    var hashed = framedByHost() ? /^#s=([\w-]{1,64})$/.exec(w.location.hash) : null;
    if (w.location.hash) { try { w.history.replaceState(null, "", w.location.pathname + w.location.search); } catch (e) { /* keep it */ } }
    var want = session || stored() || (hashed && hashed[1]);
    var body = { locale: C.l };
    if (want) body.session_id = want;
    call("POST", "/init", body).then(function (s) {
      session = s.session_id; if (!C.sid) store(session);
      var b = s.branding || {};
      $(".title").textContent = b.title || "";
      d.title = b.title || d.title;
      if (b.logo_url && /^https?:\/\//.test(b.logo_url)) { var logo = $(".logo"); logo.src = b.logo_url; logo.hidden = false; }
      if (b.primary_color && /^#[0-9a-fA-F]{3,8}$/.test(b.primary_color)) d.documentElement.style.setProperty("--p", b.primary_color);
      if (b.custom_css) { var st = el("style"); st.textContent = b.custom_css; d.head.appendChild(st); }
      $(".powered").hidden = !b.powered_by;
      box.placeholder = s.placeholder || L.placeholder;
      var welcome = function () { if (s.welcome_message) bubble("assistant", s.welcome_message); };
      var done = function () { ready = true; app.setAttribute("aria-busy", "false"); tell("ready", null, { session_id: session, color: b.primary_color }); };
      if (!s.resumed) { welcome(); return done(); }
      return call("GET", "/session/" + encodeURIComponent(session) + "/messages").then(function (h) {
        welcome();
        h.messages.forEach(function (m) {
          if (m.role === "user") bubble("user", m.content);
          else bubble("assistant", m.content);
          if (m.role === "user" && m.status === "failed") bubble("assistant", (m.error && m.error.message) || L.failed, { error: true });
        });
        var open = h.messages.filter(function (m) { return m.role === "user" && (m.status === "queued" || m.status === "processing"); });
        open.forEach(function (m) {
          setBusy(1);
          poll(m.message_id, function (err, reply) { setBusy(-1); bubble("assistant", err ? L.failed : reply, { error: !!err }); });
        });
        done();
      });
    }).catch(function (e) {
      stop(e.code === "origin_not_allowed" ? L.denied : e.status === 401 && C.sid ? L.expired : L.unavailable, e.code || "unavailable");
    });
  }
  start();
})(window, document);
