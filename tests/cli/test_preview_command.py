"""`otpgate preview`: the message an app would send to a number, with the sample code."""

from __future__ import annotations

from cli.conftest import OtpgateCommand, create_app_in


def test_preview_shows_the_numbers_language_encoding_and_segments(
    otpgate_command: OtpgateCommand,
) -> None:
    create_app_in(otpgate_command.data_dir, "shop", brand="Mayflower", webotp_domain="shop.example")
    french, hebrew, text = otpgate_command.together(
        [
            ("preview", "+33612345678", "--app", "shop", "--json"),
            ("preview", "0502345678", "--country", "IL", "--app", "shop", "--json"),
            ("preview", "+33612345678", "--app", "shop", "--locale", "es-MX"),
        ]
    )
    assert french.json() == {
        "locale": "fr",
        "body": "Votre code de vérification Mayflower : 123456\n\n@shop.example #123456",
        "encoding": "gsm7",
        "segments": 1,
    }
    assert (hebrew.json()["locale"], hebrew.json()["encoding"]) == ("he", "ucs2")
    assert text.status == 0, text.stderr
    assert text.stdout.splitlines()[:2] == [
        "es  ucs2  1 segment(s)",
        "Tu código de Mayflower es 123456",
    ]


def test_preview_refuses_a_malformed_locale_in_one_line(otpgate_command: OtpgateCommand) -> None:
    create_app_in(otpgate_command.data_dir, "shop")
    ran = otpgate_command("preview", "+33612345678", "--app", "shop", "--locale", "x!")
    assert ran.status != 0 and ran.stdout == ""
    assert ran.stderr.strip() == "otpgate: invalid_locale: 'x!' is not a BCP 47 language tag"
