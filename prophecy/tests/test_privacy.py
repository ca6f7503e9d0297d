from __future__ import annotations

from prophecy.engine.privacy import coarsen_point, privacy_filter


def test_a_polish_message_loses_name_phone_email_street_and_postal_code():
    text = ("Dzień dobry, nazywam się Jan Kowalski, mieszkam przy ul. Puławskiej 12/4, 02-512 Warszawa. "
            "Tel. 600 100 200, e-mail jan.kowalski@gmail.com. Klimatyzacja Daikin FTXM35 pokazuje błąd E10.")
    out = privacy_filter(text)
    for secret in ("Jan", "Kowalski", "Puławskiej", "12/4", "02-512", "600 100 200", "gmail"):
        assert secret not in out
    # What the technician needs stays.
    assert "Daikin FTXM35" in out and "E10" in out and "Klimatyzacja" in out


def test_an_english_message_loses_name_phones_and_street_but_keeps_the_fault():
    text = ("Hi, this is John Smith from 221B Baker Street. Call me on +44 20 7946 0958 or (555) 123-4567. "
            "The heat pump is iced up. Regards, Emily")
    out = privacy_filter(text)
    for secret in ("John", "Smith", "Baker", "7946", "123-4567", "Emily"):
        assert secret not in out
    assert "heat pump is iced up" in out


def test_declined_polish_names_and_the_clients_own_name_are_removed():
    out = privacy_filter("Pani Annie Nowakowskiej z al. Jerozolimskie 100 m. 5 kapie woda. Kontakt: +48 22 123 45 67",
                         known_names=[])
    assert "Annie" not in out and "Nowakowskiej" not in out and "Jerozolimskie" not in out and "123 45 67" not in out
    out = privacy_filter("Klient Bartek Nowak z Woli zgłasza hałas", known_names=["Bartek Nowak"])
    assert "Bartek" not in out and "Nowak" not in out and "hałas" in out


def test_numbers_that_are_not_personal_data_stay():
    text = "Annual maintenance of the boiler, R410A, 2024 model, 3 units, 1200 zł, error F28"
    assert privacy_filter(text) == text


def test_coordinates_are_coarsened_to_a_grid_of_at_least_500_metres():
    lat, lng = coarsen_point(52.229712, 21.011734, cell_m=100)  # asking for less still gives 500 m
    assert abs(lat - 52.229712) * 111_320 <= 250 + 1
    other = coarsen_point(52.2299, 21.0119)
    assert other == (lat, lng)  # two points 25 m apart fall into the same cell
    out = privacy_filter("Wyciek przy 52.229712, 21.011734")
    assert "52.229712" not in out and "21.011734" not in out
