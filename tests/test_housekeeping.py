"""`idp housekeeping` deletes what nobody can use any more, and nothing that still works."""
from datetime import timedelta

from freezegun import freeze_time


def test_housekeeping_keeps_live_tokens_and_drops_long_expired_ones(app, rp, person, client):
    email = person("P0")
    with freeze_time() as frozen:
        old = rp.tokens_for(email, vtr='["P0.Cp"]')
        frozen.tick(timedelta(days=2))
        fresh = rp.tokens_for(email, vtr='["P0.Cp"]', prompt="login")
        result = app.test_cli_runner().invoke(args=["housekeeping"])
        assert result.exit_code == 0, result.output
        assert "issued_tokens:" in result.output and "used_assertions:" in result.output
        from idp.models import IssuedToken, UsedAssertion
        from idp.protocol.bearer import read_access_token

        with app.app_context():
            ctx = app.extensions["idp"]
            # The two-day-old access token's record is gone; today's still verifies and works.
            assert read_access_token(old["access_token"], ctx.keystore, ctx.settings.issuer) is None
            assert read_access_token(fresh["access_token"], ctx.keystore, ctx.settings.issuer) is not None
            assert UsedAssertion.query.count() == 1  # only today's assertion is still within its lifetime
            assert IssuedToken.query.count() >= 2
        response = client.get("/userinfo", headers={"Authorization": f"Bearer {fresh['access_token']}"})
        assert response.status_code == 200
