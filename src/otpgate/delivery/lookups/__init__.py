"""Lookup providers: Twilio Lookup v2, Vonage Number Insight and an HTTP/HLR gateway, each a
`NumberLookup` that maps the provider's words onto otpgate's line types and `reachable`."""
