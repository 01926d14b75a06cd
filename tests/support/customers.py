"""Customer bodies (TMF629) the tests of several folders post."""


def andrea_body(**extra):
    return {"name": "Andrea Rossi", "engagedParty": {"id": "party-a", "@referredType": "Individual"},
            "contactMedium": [{"mediumType": "mobile", "characteristic": {"phoneNumber": "+447700900321"}},
                              {"mediumType": "email", "characteristic": {"emailAddress": "a.rossi@example.org"}}],
            "contactPreference": {"consent": {"sms": {"service": True, "marketing": True}}}, **extra}
