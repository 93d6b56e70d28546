from bot.config import EscalationRules
from bot.escalation import Turn, decide, sentiment_trail, turn_from_parse_data, turns_since_resume

RULES = EscalationRules()


def calm(intent="check_balance", text="how much do i owe"):
    return Turn(text=text, intent=intent, sentiment="neutral", negative=0.05)


def upset(negative=0.6, intent="check_balance", text="this is not ok"):
    return Turn(text=text, intent=intent, sentiment="negative", negative=negative)


def test_calm_conversation_stays_with_the_bot():
    assert decide([calm(), calm("list_invoices")], RULES) is None
    assert decide([], RULES) is None


def test_asking_for_a_person():
    decision = decide([calm("request_human", "agent please")], RULES)
    assert (decision.reason, decision.priority) == ("asked_for_person", 2)


def test_topics_that_always_need_a_person():
    assert decide([calm("cannot_pay")], RULES).reason == "hardship"
    assert decide([calm("dispute_charge")], RULES).reason == "dispute"
    assert decide([calm("cancel_account")], RULES).reason == "cancellation"
    assert decide([calm("charged_twice")], RULES).reason == "billing_error"
    gas = decide([calm("gas_leak", "i can smell gas")], RULES)
    assert (gas.reason, gas.priority) == ("gas_emergency", 1)
    card = decide([calm("card_stolen", "my card was stolen")], RULES)
    assert (card.reason, card.priority) == ("card_security", 1)


def test_asking_what_the_bot_can_do_never_hands_off():
    assert "what_can_you_do" not in RULES.topic_intents
    assert decide([calm("what_can_you_do", "what can you do")], RULES) is None
    # nor when asked again and again: it is not "the same request" that needs a person
    assert decide([calm("what_can_you_do", "what can you do")] * 4, RULES) is None


def test_legal_threat_whatever_the_intent():
    decision = decide([calm("complain", "I'll see you in court over this")], RULES)
    assert decision.reason == "legal_threat" and decision.priority == 1
    assert decide([calm("complain", "the courtesy was lacking")], RULES) is None  # word boundary


def test_one_strongly_negative_message():
    assert decide([calm(), upset(0.9)], RULES).reason == "anger"
    assert decide([calm(), upset(0.8)], RULES) is None


def test_a_run_of_negative_messages():
    assert decide([upset(0.6, "why_reminder"), calm(), upset(0.6, "complain")], RULES) is None
    decision = decide([upset(0.6, "why_reminder"), upset(0.7, "complain"), calm(),
                       upset(0.6, "list_invoices")], RULES)
    assert decision.reason == "anger" and "3 of the last 4" in decision.detail


def test_trend_needs_the_latest_message_to_be_negative():
    assert decide([upset(0.6, "why_reminder"), upset(0.7, "complain"), upset(0.6, "greet"),
                   calm("list_invoices")], RULES) is None


def test_second_fallback_in_a_row():
    assert decide([calm("nlu_fallback")], RULES) is None
    assert decide([calm("nlu_fallback"), calm(), calm("nlu_fallback")], RULES) is None
    assert decide([calm("nlu_fallback"), calm("nlu_fallback")], RULES).reason == "repeated_fallback"


def test_same_request_again_and_again():
    turns = [calm("why_reminder"), calm("greet"), calm("why_reminder")]
    assert decide(turns, RULES) is None
    assert decide(turns + [calm("why_reminder")], RULES).reason == "repeated_request"
    assert decide([calm("affirm")] * 4, RULES) is None  # short replies are not requests


def test_thresholds_come_from_configuration():
    strict = EscalationRules(strong_negative=0.5, fallback_limit=1)
    assert decide([upset(0.6)], strict).reason == "anger"
    assert decide([calm("nlu_fallback")], strict).reason == "repeated_fallback"


def test_verification_locked():
    assert decide([calm()], RULES, verification_locked=True).reason == "verification_locked"


def test_turns_come_from_parse_data_and_restart_after_hand_back():
    parse = {"intent": {"name": "complain"}, "sentiment": {"label": "negative", "score": 0.9,
                                                           "scores": {"negative": 0.9}}}
    assert turn_from_parse_data({**parse, "text": "awful"}) == Turn("awful", "complain", "negative", 0.9)
    events = [
        {"event": "user", "text": "awful", "parse_data": parse},
        {"event": "pause"},
        {"event": "resume"},
        {"event": "user", "text": "hi again", "parse_data": {"intent": {"name": "greet"}}},
    ]
    assert turns_since_resume(events) == [Turn("hi again", "greet", None, 0.0)]


def test_sentiment_trail_is_short_and_truncated():
    trail = sentiment_trail([upset(text="x" * 500)] * 10)
    assert len(trail) == 6 and len(trail[0]["text"]) == 200
