"""The rule that decides a login's or step-up's next step (idp/authentication/journey.py)."""
from idp.authentication.journey import next_step
from idp.levels import parse_vector_list


def step(vtr, proven, have):
    return next_step(parse_vector_list(vtr), proven, have)


def test_a_login_that_meets_a_vector_is_done():
    assert step(["P0.Cp"], {"Cp"}, {"Cp", "Cd"}).done


def test_a_missing_second_factor_is_asked_for():
    assert step(["P0.Cp.Cd"], {"Cp"}, {"Cp", "Cd"}).ask == ("Cd",)


def test_alternatives_are_offered_with_the_preferred_first():
    result = step(["P9.Cp.Cd", "P9.Cp.Ck", "P9.Cm"], {"Cp"}, {"Cp", "Cd", "Ck"})
    assert result.first == "Ck" and set(result.ask) == {"Ck", "Cd"}


def test_a_passkey_is_set_up_only_after_a_full_login_with_what_they_have():
    assert step(["P0.Cm"], {"Cp"}, {"Cp", "Cd"}).ask == ("Cd",)  # password alone is not enough to add a key
    assert step(["P0.Cm"], {"Cp", "Cd"}, {"Cp", "Cd"}).set_up == ("Cm",)


def test_a_person_who_cannot_reach_any_vector_is_told_so():
    result = step(["P0.Cp.Cd"], {"Cp"}, {"Cp"})  # no phone to send a code to, and Cd cannot be set up here
    assert not result.possible and not result.done and not result.ask


def test_nothing_proven_asks_for_both_factors_of_the_vector():
    assert set(step(["P0.Cp.Cd"], set(), {"Cp", "Cd"}).ask) == {"Cp", "Cd"}
