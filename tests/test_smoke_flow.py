def test_code_flow_end_to_end(rp, person):
    email = person("P9")
    tokens = rp.tokens_for(email, scope="openid profile email", vtr='["P9.Cp"]')
    claims = rp.verify_id_token(tokens["id_token"])
    assert claims["vot"] == "P9.Cp"
    assert claims["nhs_number"] == "9990000018"
    assert claims["nonce"] == rp.last["nonce"]
