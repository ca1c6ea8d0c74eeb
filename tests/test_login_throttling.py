"""Guessing passwords in parallel cannot get more guesses checked than the per-account limit."""
import threading

from support import PASSWORD, csrf_from, make_app


def test_parallel_guesses_get_no_more_than_the_limit_checked(tmp_path, sqlite_copy):
    app = make_app(sqlite_copy(), str(tmp_path), IDP_LOGIN_ATTEMPTS_PER_SOURCE=1000)
    with app.app_context():
        from idp.people import add_test_person

        add_test_person(app.extensions["idp"].settings, email="v@example.com", password=PASSWORD)
    browsers = []
    for _ in range(20):
        browser = app.test_client()
        browsers.append((browser, csrf_from(browser.get("/login").get_data(as_text=True))))
    checked = []
    barrier = threading.Barrier(len(browsers))

    def guess(browser, token, i):
        barrier.wait()
        page = browser.post("/login", data={"email": "v@example.com", "password": f"wrong-{i}", "csrf_token": token})
        checked.append("too many times" not in page.get_data(as_text=True))

    threads = [threading.Thread(target=guess, args=(b, t, i)) for i, (b, t) in enumerate(browsers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(checked) == len(browsers)
    assert sum(checked) <= 5  # IDP_LOGIN_ATTEMPTS_PER_ACCOUNT
    # And the right password is refused too until the window has passed.
    browser, token = browsers[0]
    page = browser.post("/login", data={"email": "v@example.com", "password": PASSWORD, "csrf_token": token})
    assert "too many times" in page.get_data(as_text=True)
