"""The console's acceptance, in a real headless Chromium driven by Selenium through Debian's
chromedriver (tests/console_browser/main.rs runs this and plays the operator's phone).

One argument: the setup as JSON (base_url, operator email and password, the customer users,
the approved request, the screenshot folder). What only the test can do (approve on the phone,
call the API with a key) is asked over stdout (`ASK <json>`) and answered on stdin (one JSON
line); the script ends with `DONE <json>`. Log lines go to stderr. Any failure: a screenshot
named `…-failure.png`, the traceback, exit status 1.
"""

import http.server
import json
import sys
import tempfile
import threading
import traceback
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

# The flags Chromium needs on a closed network (it stalls on its own update/sync calls).
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1000",
]
SESSION_COOKIE = "__Host-countersign_session"
WAIT_SECONDS = 20


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


class Browser:
    """One Chromium with a fresh profile, numbered screenshots and the line protocol."""

    def __init__(self, setup, profile):
        options = webdriver.ChromeOptions()
        options.binary_location = setup["chromium"]
        for flag in CHROMIUM_FLAGS + [f"--user-data-dir={profile}"]:
            options.add_argument(flag)
        service = Service(executable_path=setup["chromedriver"])
        self.driver = webdriver.Chrome(options=options, service=service)
        self.base = setup["base_url"]
        self.shots = Path(setup["screenshots"])
        self.shots.mkdir(parents=True, exist_ok=True)
        self.taken = 0

    def shot(self, name):
        self.taken += 1
        path = self.shots / f"{self.taken:02d}-{name}.png"
        self.driver.save_screenshot(str(path))
        log(f"screenshot {path}")

    def go(self, path):
        self.driver.get(self.base + path)

    def path(self):
        url = self.driver.current_url
        return url[len(self.base):] if url.startswith(self.base) else url

    def find(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def fill(self, name, value):
        field = self.find(f"[name='{name}']")
        field.clear()
        field.send_keys(value)

    def submit(self, css="button[type=submit]"):
        self.find(css).click()

    def wait(self, condition, what, seconds=WAIT_SECONDS):
        # A page being replaced (a form just sent) makes the old page's elements stale or
        # gone for a moment: that is "not yet", not a failure.
        return WebDriverWait(
            self.driver,
            seconds,
            poll_frequency=0.2,
            ignored_exceptions=(NoSuchElementException, StaleElementReferenceException),
        ).until(lambda _: condition(), message=f"waited {seconds}s for {what}")

    def text(self):
        return self.find("body").text

    def wait_text(self, needle, seconds=WAIT_SECONDS):
        self.wait(lambda: needle in self.text(), f"{needle!r} on {self.path()}", seconds)


def ask(question):
    print("ASK " + json.dumps(question), flush=True)
    answer = json.loads(sys.stdin.readline())
    if answer.get("error"):
        raise AssertionError(f"the test refused {question['do']}: {answer['error']}")
    return answer


class Attacker:
    """Another origin: a tiny HTTP server whose one page auto-submits a form to the console,
    as a hostile site an operator visits while logged in would."""

    def __init__(self):
        self.page = b""
        attacker = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(attacker.page)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def origin(self, host):
        return f"http://{host}:{self.server.server_port}"

    def serve_form(self, action, fields):
        inputs = "".join(
            f'<input type="hidden" name="{name}" value="{value}">' for name, value in fields.items()
        )
        self.page = (
            f'<!doctype html><form id="f" method="post" action="{action}">{inputs}</form>'
            '<script>document.getElementById("f").submit()</script>'
        ).encode()

    def close(self):
        self.server.shutdown()


def on_login_page(b):
    return b.path().startswith("/console/login")


def sign_in_with_password(b, setup, password):
    b.go("/console/login")
    b.fill("email", setup["email"])
    b.fill("password", password)
    b.submit()


def wrong_password_is_refused(b, setup):
    sign_in_with_password(b, setup, setup["password"] + "x")
    b.wait_text("Sign-in failed")
    assert on_login_page(b), b.path()
    assert b.driver.get_cookie(SESSION_COOKIE) is None, "a refused password got a session"
    b.shot("wrong-password-refused")
    b.go("/console/apps")
    assert on_login_page(b), f"no session, yet {b.path()} opened"


def sign_in(b, setup):
    """Password, then the second factor: the push approval on the operator's phone, given by
    the test while this page waits (its script polls and continues by itself)."""
    sign_in_with_password(b, setup, setup["password"])
    b.wait(lambda: b.find_all("#push [data-status]"), "the push second factor")
    assert on_login_page(b), b.path()
    numbers = b.find_all("#push-number")
    b.shot("waiting-for-the-phone")
    ask({"do": "approve_login", "number": numbers[0].text if numbers else None})
    b.wait(lambda: b.path() == "/console/apps", "the applications after the phone approved")
    b.shot("signed-in")


def create_app(b):
    b.fill("name", "Diagon Alley")
    b.submit("form[action='/console/apps'] button[type=submit]")
    b.wait_text("was created")
    notice = b.find("section.notice").text
    app_id = int(notice.split("Application ", 1)[1].split(" ", 1)[0])
    key = b.find("#api-key").text
    assert len(key) >= 32, "the new app's key is shown once"
    b.shot("app-created")
    return app_id, key


def rotate_key(b, app_id, old_key, grace_seconds):
    b.go(f"/console/apps/{app_id}")
    b.fill("grace_seconds", str(grace_seconds))
    b.submit("form[action$='/rotate-key'] button[type=submit]")
    b.wait_text("The key was rotated")
    new_key = b.find("#api-key").text
    b.shot("key-rotated")
    ask({"do": "keys_in_grace", "old_key": old_key, "new_key": new_key})
    return new_key


def change_callback(b, app_id, url):
    b.go(f"/console/apps/{app_id}")
    b.fill("callback_url", url)
    b.submit("form[action$='/settings'] button[type=submit]")
    b.wait_text("The settings were saved")
    assert b.find("#callback_url").get_attribute("value") == url
    b.go("/console/apps")
    assert url in b.text(), "the list shows the new callback URL"
    b.shot("callback-changed")


def suspend_and_resume(b, app_id, key):
    """Suspend: the list shows it and the key gets 403 / 60061 (checked by the test over the
    API); Resume: the key works again."""
    b.go(f"/console/apps/{app_id}")
    b.submit("form[action$='/suspend'] button[type=submit]")
    b.wait_text("The application was suspended")
    b.go("/console/apps")
    row = b.find(f"a[href='/console/apps/{app_id}']").find_element(By.XPATH, "ancestor::tr")
    assert "Suspended" in row.text, row.text
    b.shot("app-suspended")
    ask({"do": "key_status", "key": key, "status": 403})
    b.go(f"/console/apps/{app_id}")
    b.submit("form[action$='/resume'] button[type=submit]")
    b.wait_text("The application was resumed")
    ask({"do": "key_status", "key": key, "status": 200})


def find_user_and_revoke_device(b, user):
    b.go("/console/users")
    b.fill("q", user["email"])
    b.submit("form[role=search] button[type=submit]")
    link = f"a[href='/console/users/{user['id']}']"
    b.wait(lambda: b.find_all(link), f"user {user['id']} in the results")
    b.shot("user-found")
    b.find(link).click()
    b.wait(lambda: b.find_all("#user-email"), "the user's page")
    assert b.find("#user-email").text == user["email"]
    revoke = "form[action$='/revoke'] button[type=submit]"
    assert len(b.find_all(revoke)) == 1, "one device, not yet revoked"
    b.submit(revoke)
    b.wait_text("The device was revoked")
    assert not b.find_all(revoke), "the device still offers Revoke"
    assert "revoked" in b.find("tr[data-device]").text
    b.shot("device-revoked")


def approved_evidence_is_verified(b, uuid):
    b.go("/console/approvals?state=approved")
    link = f"a[href='/console/approvals/{uuid}']"
    b.wait(lambda: b.find_all(link), f"request {uuid} in the list")
    b.shot("approvals")
    b.find(link).click()
    b.wait(lambda: b.find_all("#evidence"), "the evidence box")
    assert b.find("#request-state").text == "approved"
    verdict = "#evidence-browser-verdict"
    b.wait(lambda: b.find(verdict).text != "checking…", "the in-page check")
    assert b.find(verdict).text == "verified", b.find(verdict).text
    content = b.find("#evidence-browser-content").text
    assert content == "the signed content matches what this page shows", content
    assert b.find("#evidence").get_attribute("data-browser-checked") == "valid"
    b.shot("evidence-verified")


def cross_site_posts_are_refused(b, attacker):
    """A page on another site (no cookie goes along: SameSite) and one on another origin of
    the same site, holding the real form token as if it had leaked (only the origin check is
    left to refuse it): neither creates the app."""
    b.go("/console/apps")
    token = b.find("form[action='/console/apps'] input[name=csrf]").get_attribute("value")
    cross_site = {"name": "Forged cross-site", "token_length": "7"}
    cross_origin = {"name": "Forged cross-origin", "token_length": "7", "csrf": token}
    for host, fields, name, refused in [
        # No cookie went along: the console sees a visitor and sends them to sign in.
        ("localhost", cross_site, "cross-site", lambda: on_login_page(b)),
        # The cookie and the token went along: the origin check refuses the post.
        ("127.0.0.1", cross_origin, "cross-origin", lambda: "Refused" in b.text()),
    ]:
        attacker.serve_form(f"{b.base}/console/apps", fields)
        b.driver.get(attacker.origin(host) + "/")
        b.wait(lambda: b.driver.current_url.startswith(b.base), "the forged post's answer")
        b.shot(f"forged-post-{name}")
        assert "was created" not in b.text(), f"the {name} post created an app"
        assert refused(), f"the {name} post was not refused as expected: {b.text()[:200]}"
    b.go("/console/apps")
    assert b.path() == "/console/apps", "a forged post signed the operator out"
    assert "Forged" not in b.text(), "a forged post created an app"


def replayed_cookie_is_refused(b):
    cookie = b.driver.get_cookie(SESSION_COOKIE)
    assert cookie is not None, "signed in, with the session cookie"
    b.submit("form.logout button[type=submit]")
    b.wait(lambda: on_login_page(b), "the login page after logout")
    b.shot("logged-out")
    b.driver.add_cookie(
        {key: cookie[key] for key in ("name", "value", "path", "secure", "httpOnly", "sameSite")}
    )
    b.go("/console/apps")
    assert on_login_page(b), f"the replayed cookie opened {b.path()}"
    b.shot("replayed-cookie-refused")


def flow(b, setup, attacker):
    wrong_password_is_refused(b, setup)
    sign_in(b, setup)
    app_id, key = create_app(b)
    new_key = rotate_key(b, app_id, key, setup["grace_seconds"])
    change_callback(b, app_id, "https://bank.example/countersign/onetouch")
    suspend_and_resume(b, app_id, new_key)
    find_user_and_revoke_device(b, setup["user"])
    approved_evidence_is_verified(b, setup["approved"])
    cross_site_posts_are_refused(b, attacker)
    replayed_cookie_is_refused(b)
    return {"app_id": app_id}


def main():
    setup = json.loads(sys.argv[1])
    attacker = Attacker()
    with tempfile.TemporaryDirectory() as profile:
        b = Browser(setup, profile)
        try:
            result = flow(b, setup, attacker)
        except Exception:
            traceback.print_exc()
            b.shot("failure")
            log(f"failed on {b.driver.current_url}:\n{b.text()[:2000]}")
            sys.exit(1)
        finally:
            b.driver.quit()
            attacker.close()
    print("DONE " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
