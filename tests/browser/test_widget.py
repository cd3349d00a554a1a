"""The widget in a real browser (Chromium): the demo page, the JS API, uploads, refusals and safe rendering."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page

from tests.browser.conftest import (
    SCREENSHOTS,
    OtherSite,
    demo_url,
    mint_share_link,
    open_widget,
    write_answered_turn,
)
from tests.e2e.conftest import RunningStack

pytestmark = pytest.mark.xdist_group("browser")

RECORD_EVENTS = """() => {
  window.__events = [];
  ["ready","open","close","message:sent","message:received","file:uploading","file:uploaded","file:error","error"]
    .forEach(n => window.AiManagerWidget.on(n, d => window.__events.push([n, d])));
}"""


def events(page: Page, name: str | None = None) -> list[Any]:
    got: list[Any] = page.evaluate("() => window.__events || []")
    return [d for n, d in got if n == name] if name else got


def send(frame: Any, text: str) -> None:
    frame.locator("textarea").fill(text)
    frame.locator("textarea").press("Enter")


def test_a_visitor_chats_then_finds_the_history_after_a_reload(context: BrowserContext, stack: RunningStack) -> None:
    # Given the demo host page (localhost) with the widget opened
    page = context.new_page()
    frame = open_widget(page, stack)
    assert frame.locator(".title").inner_text() == "Assistant EBP"
    assert "Décrivez votre projet" in frame.locator(".msg.assistant").first.inner_text()
    assert frame.locator("textarea").get_attribute("placeholder") == "Décrivez vos travaux..."
    assert frame.locator(".powered").is_visible()
    # When the visitor sends a message
    send(frame, "Je veux carreler une salle de bain de 6 m2")
    # Then the typing indicator shows while it is queued, and the answer appears
    frame.locator(".msg.user").filter(has_text="carreler").wait_for()
    reply = frame.locator(".msg.assistant").nth(1)
    reply.wait_for(timeout=60_000)
    assert "[stand-in]" in reply.inner_text() and "salle de bain" in reply.inner_text()
    assert frame.locator(".typing").is_hidden()
    # When the page is reloaded, Then the same session's history is back
    page.reload()
    page.wait_for_function("() => !!window.AiManagerWidget")
    page.click(".aimw-b")
    frame = page.frame_locator(".aimw iframe")
    frame.locator("main[aria-busy=false]").wait_for(timeout=30_000)
    assert frame.locator(".msg.user").filter(has_text="carreler").count() == 1
    assert "[stand-in]" in frame.locator(".msg.assistant").nth(1).inner_text()


def test_the_js_api_methods_and_events(context: BrowserContext, stack: RunningStack) -> None:
    # Given the demo page, with a listener on every event registered as soon as the API exists
    page = context.new_page()
    # The moment the loader publishes its API (before the iframe can possibly be ready), record every event and
    # call sendMessage: the call must be queued, not lost.
    page.add_init_script(
        """Object.defineProperty(window, 'AiManagerWidget', { configurable: true, get() { return this.__w; },
          set(w) { this.__w = w; window.__events = [];
            ['ready','open','close','message:sent','message:received','file:uploading','file:uploaded',
             'file:error','error'].forEach(n => w.on(n, d => window.__events.push([n, d])));
            window.__readyAtCall = window.__events.some(e => e[0] === 'ready');
            w.sendMessage('Bonjour, message envoyé avant que le chat soit prêt'); } });"""
    )
    page.goto(demo_url(stack))
    assert page.evaluate("() => window.__readyAtCall") is False
    page.wait_for_function("() => window.__events.some(e => e[0] === 'message:received')", timeout=60_000)
    assert events(page, "ready") and events(page, "ready")[0]["session_id"].startswith("sess_")
    assert events(page, "message:sent")[0]["text"].startswith("Bonjour, message envoyé")
    assert "[stand-in]" in events(page, "message:received")[0]["text"]
    # open / close / toggle fire their events and show or hide the chat
    page.evaluate("() => window.AiManagerWidget.open()")
    assert page.locator(".aimw iframe").is_visible()
    page.evaluate("() => window.AiManagerWidget.toggle()")
    assert page.locator(".aimw iframe").is_hidden()
    assert [e[0] for e in events(page) if e[0] in ("open", "close")] == ["open", "close"]
    # off() removes a listener
    page.evaluate(
        "() => { window.__n = 0; const f = () => window.__n++; window.AiManagerWidget.on('open', f);"
        " window.AiManagerWidget.off('open', f); window.AiManagerWidget.open(); }"
    )
    assert page.evaluate("() => window.__n") == 0
    # setContext is accepted; Escape inside the chat closes it (keyboard)
    page.evaluate("() => window.AiManagerWidget.setContext({page: 'devis', ref: 'D-42'})")
    page.frame_locator(".aimw iframe").locator("textarea").press("Escape")
    page.wait_for_function("() => window.__events.filter(e => e[0] === 'close').length === 2")


def test_loaded_twice_then_destroyed_and_created_again(context: BrowserContext, stack: RunningStack) -> None:
    # Given a page that includes the loader a second time (a CMS plugin and a theme both add it)
    page = context.new_page()
    page.goto(demo_url(stack))
    page.wait_for_function("() => !!window.AiManagerWidget")
    src = page.evaluate("() => document.querySelector('script[src*=loader]').src")
    page.add_script_tag(url=src)
    page.wait_for_timeout(300)
    # Then there is one widget
    assert page.locator(".aimw").count() == 1 and page.locator(".aimw iframe").count() == 1
    # When a single-page app destroys it, Then nothing of it is left
    page.evaluate("() => window.AiManagerWidget.destroy()")
    assert page.locator(".aimw").count() == 0 and page.evaluate("() => window.AiManagerWidget === undefined")
    # When the app includes the loader again, Then a working widget is back
    page.add_script_tag(url=src)
    page.wait_for_function("() => !!window.AiManagerWidget")
    page.evaluate(RECORD_EVENTS)
    page.evaluate("() => window.AiManagerWidget.sendMessage('Après destroy et recréation')")
    page.wait_for_function("() => window.__events.some(e => e[0] === 'message:received')", timeout=60_000)
    assert page.locator(".aimw").count() == 1


def test_a_photo_upload_shows_its_thumbnail_and_a_fake_image_is_refused(
    context: BrowserContext, stack: RunningStack, tmp_path: Any
) -> None:
    from PIL import Image

    photo = tmp_path / "salle-de-bain.jpg"
    Image.new("RGB", (1200, 900), (180, 120, 60)).save(photo, quality=85)
    page = context.new_page()
    frame = open_widget(page, stack)
    page.evaluate(RECORD_EVENTS)
    # When the visitor attaches a photo with the attachment button
    frame.locator("input[type=file]").set_input_files(str(photo))
    # Then its server-made thumbnail is shown, once our checks passed
    thumb = frame.locator(".file.ok img.thumb")
    thumb.wait_for(timeout=60_000)
    assert "/api/widget/v1/files/" in (thumb.get_attribute("src") or "")
    size = thumb.evaluate(
        "img => new Promise(r => img.complete ? r([img.naturalWidth, img.naturalHeight]) :"
        " img.addEventListener('load', () => r([img.naturalWidth, img.naturalHeight])))"
    )
    assert size == [320, 240]
    assert events(page, "file:uploaded")[0]["name"] == "salle-de-bain.jpg"
    assert events(page, "file:uploading"), "progress events"
    # When a host page uploads, through the API, a text file named .jpg and typed image/jpeg
    result = page.evaluate(
        """() => window.AiManagerWidget.uploadFile(new File(['<html>not a photo</html>'], 'photo.jpg',
                 {type: 'image/jpeg'})).then(f => ({ok: true, f}), e => ({ok: false, message: e.message}))"""
    )
    # Then it is refused by its content, and file:error fires
    assert result["ok"] is False
    assert events(page, "file:error")[0]["name"] == "photo.jpg"
    # And uploadFile resolves with the file for a real image
    ok = page.evaluate(
        """async () => { const c = document.createElement('canvas'); c.width = 50; c.height = 40;
             const blob = await new Promise(r => c.toBlob(r, 'image/png'));
             return window.AiManagerWidget.uploadFile(new File([blob], 'plan.png', {type: 'image/png'})); }"""
    )
    assert ok["content_type"] == "image/png" and ok["thumbnail_url"].startswith(stack.url)


def test_a_site_the_deployment_does_not_allow_gets_no_session(
    context: BrowserContext, stack: RunningStack, other_site: OtherSite
) -> None:
    key = stack.demo["deployment_key"]
    loader = f"{stack.url}/widget/v1/assets/loader.js"
    other_site.pages["/evil"] = (
        "<!doctype html><title>evil</title><script>window.__errors = [];"
        f" window.AiManagerConfig = {{deploymentKey: '{key}', onError: e => window.__errors.push(e)}};</script>"
        f'<script src="{loader}"></script>'
    )
    # A page that also forges the host origin it claims (the iframe URL's parameter)
    # A page that also forges the host origin it claims (the iframe URL's parameter), with and without a Referer
    forged = f"{stack.url}/widget/v1/frame?k={key}&o=http%3A%2F%2Flocalhost&m=inline"
    other_site.pages["/forged"] = (
        f'<!doctype html><title>forged</title><iframe src="{forged}"></iframe>'
        f'<iframe referrerpolicy="no-referrer" src="{forged}"></iframe>'
    )
    page = context.new_page()
    api_calls: list[str] = []
    page.on("request", lambda r: api_calls.append(r.url) if "/api/widget/v1/" in r.url else None)
    # When the other site embeds the loader with a valid key
    page.goto(f"{other_site.url}/evil")
    page.wait_for_function("() => !!window.AiManagerWidget")
    page.click(".aimw-b")
    frame = page.frame_locator(".aimw iframe")
    # Then the widget says clearly that it is not authorised here, and the host hears why
    notice = frame.locator(".notice")
    notice.wait_for(timeout=30_000)
    assert notice.inner_text() == "Cet assistant n'est pas autorisé sur ce site."
    assert frame.locator("textarea").is_disabled()
    page.wait_for_function("() => window.__errors.length > 0", timeout=5_000)
    assert page.evaluate("() => window.__errors[0].code") == "origin_not_allowed"
    # When a page forges an allowed origin in the iframe URL: with a Referer the server sees through it (refusal
    # page), without one the chat app is served for localhost and the browser refuses to frame it (CSP)
    page.goto(f"{other_site.url}/forged")
    page.wait_for_timeout(1500)
    with_referer, without_referer = page.frames[1], page.frames[2]
    assert with_referer.evaluate(CONFIG) == {"err": "origin_not_allowed", "tok": None}
    assert not _readable(without_referer) or without_referer.evaluate(CONFIG) is None
    # And no session was ever asked for
    assert not [u for u in api_calls if "/init" in u]


CONFIG = """() => { const c = document.getElementById('aim-config');
  if (!c) return null; const j = JSON.parse(c.textContent); return {err: j.err || null, tok: j.tok || null}; }"""


def _readable(frame: Any) -> bool:
    try:
        frame.evaluate("() => 1")
        return True
    except Exception:
        return False


def test_a_forged_post_message_is_ignored(context: BrowserContext, stack: RunningStack, other_site: OtherSite) -> None:
    page = context.new_page()
    frame = open_widget(page, stack)
    page.evaluate(RECORD_EVENTS)
    # When the host page posts a fake "message received" to itself (as if from the iframe)
    page.evaluate("() => window.postMessage({aim: 1, type: 'message:received', data: {text: 'forged'}}, '*')")
    # And a third-party frame inside the host page tells the chat app to send a message
    other_site.pages["/ad"] = (
        "<script>for (let i = 0; i < parent.frames.length; i++)"
        " parent.frames[i].postMessage({aim: 1, type: 'send', text: 'pwned by an ad'}, '*');</script>"
    )
    page.evaluate(
        f"() => {{ const f = document.createElement('iframe'); f.src = '{other_site.url}/ad';"
        " document.body.appendChild(f); }"
    )
    page.wait_for_timeout(1500)
    # Then neither is believed
    assert events(page, "message:received") == []
    assert frame.locator(".msg.user").count() == 0
    # While the real API still works
    page.evaluate("() => window.AiManagerWidget.sendMessage('Vrai message')")
    frame.locator(".msg.user").filter(has_text="Vrai message").wait_for()


def test_model_replies_are_rendered_safely(context: BrowserContext, stack: RunningStack) -> None:
    # Given a conversation whose stored reply holds raw HTML, markdown and a json-quote block
    page = context.new_page()
    frame = open_widget(page, stack)
    session_id = _session_of(page)
    quote = {
        "items": [
            {"designation": "Carrelage sol", "quantite": 6, "unite": "m²", "prix_unitaire_ht": 50, "total_ht": 300},
            {"designation": "Ragréage", "quantite": 6, "unite": "m²", "prix_unitaire_ht": 20, "total_ht": 120},
        ],
        "total_ht": 420,
        "tva_rate": 0.1,
        "total_ttc": 462,
    }
    reply = (
        'Voici **votre pré-devis** <img src=x onerror="window.top.__pwned=1"> :\n'
        "- pose incluse\n- [guide](https://example.com/guide)\n\n"
        f"```json-quote\n{json.dumps(quote, ensure_ascii=False)}\n```"
    )
    write_answered_turn(stack, session_id, "Un devis SVP", reply)
    # When the page is reloaded (history)
    page.reload()
    page.wait_for_function("() => !!window.AiManagerWidget")
    page.click(".aimw-b")
    frame = page.frame_locator(".aimw iframe")
    frame.locator("main[aria-busy=false]").wait_for(timeout=30_000)
    answer = frame.locator(".msg.assistant").nth(1)
    # Then the HTML is shown as text, never as an element
    assert '<img src=x onerror="window.top.__pwned=1">' in answer.inner_text()
    assert answer.locator("img").count() == 0
    assert page.evaluate("() => window.__pwned") is None
    # And the markdown subset is rendered: bold, list, a safe link
    assert answer.locator("strong").inner_text() == "votre pré-devis"
    assert answer.locator("li").count() == 2
    link = answer.locator("a")
    assert link.get_attribute("rel") == "noopener noreferrer nofollow" and link.get_attribute("target") == "_blank"
    # And the json-quote block is a readable table, not raw JSON
    table = answer.locator("figure.quote table")
    assert table.locator("tbody tr").count() == 2
    assert "Carrelage sol" in table.inner_text() and "462,00 €" in table.inner_text()
    assert '"total_ttc"' not in answer.inner_text()


def _session_of(page: Page) -> str:
    """The widget's session, as its ready event tells the host page."""
    return str(page.evaluate("() => new Promise(r => window.AiManagerWidget.on('ready', d => r(d.session_id)))"))


def test_a_share_link_opens_the_standalone_chat(context: BrowserContext, stack: RunningStack) -> None:
    # Given a share link for a session of the demo deployment
    token, session_id = mint_share_link(stack)
    write_answered_turn(stack, session_id, "Bonjour", "Bonjour, **Durant Peinture** vous répond.")
    page = context.new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    # When the customer opens it on a phone
    page.goto(f"{stack.url}/s/{token}")
    page.locator("main[aria-busy=false]").wait_for(timeout=30_000)
    # Then the chat is full screen with its history, and a message is answered
    assert page.locator("meta[name=viewport]").count() == 1
    assert "Durant Peinture" in page.locator(".msg.assistant").nth(1).inner_text()
    send(page, "Je veux repeindre le salon")
    page.locator(".msg.assistant").nth(2).wait_for(timeout=60_000)
    box = page.locator(".composer").bounding_box()
    assert box is not None and box["y"] + box["height"] <= 844
    # When the link is tampered with, expired or minted for another purpose, Then a clear 401 page
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    expired = mint_share_link(stack, ttl_s=1)[0]
    other_purpose = mint_share_link(stack, purpose="artisan")[0]
    page.wait_for_timeout(1100)
    for bad in (tampered, expired, other_purpose):
        resp = page.goto(f"{stack.url}/s/{bad}")
        assert resp is not None and resp.status == 401
        assert page.locator(".notice").inner_text() == "Ce lien n'est plus valide."


@pytest.mark.parametrize(
    ("theme", "width", "height", "name"),
    [
        ("light", 1280, 800, "widget-desktop-light"),
        ("dark", 1280, 800, "widget-desktop-dark"),
        ("light", 390, 844, "widget-mobile-light"),
        ("dark", 390, 844, "widget-mobile-dark"),
    ],
)
def test_screenshots_of_the_open_widget(
    context: BrowserContext, stack: RunningStack, theme: str, width: int, height: int, name: str
) -> None:
    # Given the demo page in this theme and viewport, with one exchange in the chat
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": height})
    page.emulate_media(color_scheme="dark" if theme == "dark" else "light")  # theme "auto" follows the system
    open_widget(page, stack)
    # with a pre-quote already in the conversation (history), and one more exchange
    quote = {
        "items": [
            {"designation": "Dépose faïence", "quantite": 12, "unite": "m²", "prix_unitaire_ht": 18, "total_ht": 216},
            {"designation": "Pose faïence", "quantite": 12, "unite": "m²", "prix_unitaire_ht": 55, "total_ht": 660},
        ],
        "total_ht": 876,
        "tva_rate": 0.1,
        "total_ttc": 963.6,
    }
    write_answered_turn(
        stack,
        _session_of(page),
        "Je veux refaire la faïence de ma salle de bain (12 m²).",
        "Voici une **première estimation** :\n- dépose et pose comprises\n- TVA à 10 % (logement de plus de 2 ans)"
        f"\n\n```json-quote\n{json.dumps(quote, ensure_ascii=False)}\n```",
    )
    page.reload()
    page.wait_for_function("() => !!window.AiManagerWidget")
    page.click(".aimw-b")
    frame = page.frame_locator(".aimw iframe")
    frame.locator("main[aria-busy=false]").wait_for(timeout=30_000)
    send(frame, "Combien pour carreler le sol, 6 m² ?")
    frame.locator(".msg.assistant").nth(2).wait_for(timeout=60_000)
    frame.locator(".msg.assistant").nth(2).scroll_into_view_if_needed()
    # Then the chat is laid out for the viewport (full screen on a phone) in the expected theme
    iframe_box = page.locator(".aimw iframe").bounding_box()
    assert iframe_box is not None
    if width < 480:
        assert iframe_box["width"] == width
    dark = frame.locator("html").get_attribute("data-theme")
    assert dark == theme
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def test_the_widget_works_from_the_keyboard_with_aria_roles(context: BrowserContext, stack: RunningStack) -> None:
    # Given the demo page, used with the keyboard only
    page = context.new_page()
    page.goto(demo_url(stack))
    page.wait_for_function("() => !!window.AiManagerWidget")
    page.focus(".aimw-b")
    assert page.get_attribute(".aimw-b", "aria-expanded") == "false"
    # When Enter opens the chat, Then the composer has the focus and the button says the chat is open
    page.keyboard.press("Enter")
    frame = page.frame_locator(".aimw iframe")
    frame.locator("main[aria-busy=false]").wait_for(timeout=30_000)
    page.wait_for_function("() => document.querySelector('.aimw-b').getAttribute('aria-expanded') === 'true'")
    frame.locator("textarea:focus").wait_for(timeout=5_000)
    # And the parts are announced: a live log, a status for typing, labelled controls
    assert frame.locator("ol.log[role=log][aria-live=polite]").count() == 1
    assert frame.locator(".typing[role=status]").count() == 1
    for control in ("textarea", "input[type=file]", "button.send", "button.x"):
        assert frame.locator(control).get_attribute("aria-label"), control
    # When a message is typed and Enter pressed, Then it is sent
    page.keyboard.type("Bonjour au clavier")
    page.keyboard.press("Enter")
    frame.locator(".msg.user").filter(has_text="Bonjour au clavier").wait_for()
    # Tab moves from the composer to the send button; Escape closes and gives the focus back to the host's button
    page.keyboard.press("Tab")
    assert frame.locator("button.send:focus").count() == 1
    page.keyboard.press("Escape")
    page.wait_for_function("() => document.activeElement && document.activeElement.classList.contains('aimw-b')")
    assert page.locator(".aimw iframe").is_hidden()


def test_a_chat_app_url_with_an_attackers_session_opened_top_level_is_refused(
    context: BrowserContext, stack: RunningStack
) -> None:
    # Given a session the attacker opened (and reads with curl), and a chat-app URL naming it in #s=
    attacker = stack.call("POST", "/api/widget/v1/init", json={}).json()["data"]["session_id"]
    port = stack.url.rsplit(":", 1)[1]
    url = f"{stack.url}/widget/v1/frame?k={stack.demo['deployment_key']}&o=http%3A%2F%2Flocalhost%3A{port}#s={attacker}"
    page = context.new_page()
    api_calls: list[str] = []
    page.on("request", lambda r: api_calls.append(r.url) if "/api/widget/v1/" in r.url else None)
    # When the victim opens it as a page (a link in an email: top level, no Referer)
    resp = page.goto(url)
    page.wait_for_timeout(1000)
    # Then the chat app is not served, no session is resumed, and nothing typed could reach the attacker
    assert resp is not None and resp.status == 403
    assert page.evaluate(CONFIG) == {"err": "framed_only", "tok": None}
    assert page.locator("textarea").is_disabled()
    assert not [u for u in api_calls if "/init" in u]
    history = stack.call("GET", f"/api/widget/v1/session/{attacker}/messages").json()["data"]["messages"]
    assert history == []


def test_a_session_of_another_site_handed_to_the_widget_is_not_resumed(
    context: BrowserContext, stack: RunningStack
) -> None:
    # Given a session opened for another allowed site of the deployment (127.0.0.1, as a forged curl would)
    foreign = stack.call("POST", "/api/widget/v1/init", origin="http://127.0.0.1:8080", json={}).json()["data"][
        "session_id"
    ]
    # And the demo host page (localhost) made to hand it to the widget (what the loader keeps for it)
    page = context.new_page()
    page.goto(demo_url(stack))
    key = stack.demo["deployment_key"]
    page.evaluate(f"() => localStorage.setItem('aim:s:{key}', '{foreign}')")
    page.reload()
    page.wait_for_function("() => !!window.AiManagerWidget")
    page.click(".aimw-b")
    page.frame_locator(".aimw iframe").locator("main[aria-busy=false]").wait_for(timeout=30_000)
    # Then the widget opened a session of its own instead of resuming the foreign one
    mine = _session_of(page)
    assert mine and mine != foreign
