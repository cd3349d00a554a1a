"""The anonymizer (§15.2G): each detector table by table, stable placeholders, known identities, structured data."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aimanager.domain.anonymizer import (
    KnownIdentities,
    ProjectAnonymizer,
    anonymize_data,
    anonymize_text,
    french_vat_is_valid,
    iban_is_valid,
    identity_kind,
    normalise_phone,
    siren_is_valid,
    siret_is_valid,
)


def kinds(text: str, known: KnownIdentities | None = None) -> list[tuple[str, str]]:
    """(kind, original) of every replacement in `text`."""
    return [(r.kind, r.original) for r in anonymize_text(text, known).replacements]


def assert_kept(text: str, known: KnownIdentities | None = None) -> None:
    result = anonymize_text(text, known)
    assert result.text == text, result.replacements


# --------------------------------------------------------------------------------------------------------- phones
@pytest.mark.parametrize(
    "phone",
    [
        "06 12 34 56 78",
        "06.12.34.56.78",
        "06-12-34-56-78",
        "0612345678",
        "+33 6 12 34 56 78",
        "+33612345678",
        "+33 (0)6 12 34 56 78",
        "0033 6 12 34 56 78",
        "01-23-45-67-89",
        "01 23 45 67 89",
        "09 87 65 43 21",
        "0800 123 456",
        "06 12 345 678",
        "06\u00a012\u00a034\u00a056\u00a078",  # non-breaking spaces, as phones paste them
        "06/12/34/56/78",
        "+32 2 123 45 67",  # Belgium
        "+41 22 345 67 89",  # Switzerland
        "+351 912 345 678",  # Portugal
        "0041 22 345 67 89",
    ],
)
def test_every_phone_format_is_replaced(phone: str) -> None:
    # Given a message with a phone number in one of the formats people write
    text = f"Rappelez-moi au {phone} après 18h."
    # When it is anonymized
    # Then the whole number, and only it, is a TELEPHONE
    assert kinds(text) == [("TELEPHONE", phone)]


@pytest.mark.parametrize(
    "text",
    [
        "Budget : 1 250 000 € pour la maison.",
        "Commande fournisseur réf. 123456789, livrée le 15/03/2024 à 14h30.",
        "Sinistre n° 2024-118745, commande n° 20240315889123.",
        "Permis PC 038 185 24 00012 accordé.",
        "Réf. Leroy Merlin 82174512, 36 cartons de 1,44 m².",
        "Dimensions 215 x 90 cm, épaisseur 12 cm, 2,5 mm², 16 A, 230 V.",
        "RDV le 05/06/2024 à 10/12 h, livraison 12/03/2024.",
    ],
)
def test_numbers_that_are_not_phones_are_kept(text: str) -> None:
    assert_kept(text)


def test_one_number_in_several_formats_is_one_placeholder() -> None:
    # Given the same mobile written three ways in one project
    anonymizer = ProjectAnonymizer()
    first = anonymizer.anonymize_text("Mon portable : 06 12 34 56 78.")
    second = anonymizer.anonymize_text("Ou le +33 6 12 34 56 78, sinon 0033612345678.")
    # Then one placeholder stands for it everywhere
    assert first.text == "Mon portable : [TELEPHONE_1]."
    assert second.text == "Ou le [TELEPHONE_1], sinon [TELEPHONE_1]."


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("06 12 34 56 78", "+33612345678"),
        ("+33 (0)6 12 34 56 78", "+33612345678"),
        ("0033 6 12 34 56 78", "+33612345678"),
        ("+41 22 345 67 89", "+41223456789"),
    ],
)
def test_phone_normalisation(raw: str, key: str) -> None:
    assert normalise_phone(raw) == key


# --------------------------------------------------------------------------------------------------------- emails
@pytest.mark.parametrize(
    "email",
    [
        "jean.martin@gmail.com",
        "BenoitCarre@Gmail.com",
        "a.cherif.maconnerie@gmail.com",
        "contact@archi-and-co.fr",
        "prenom+devis@sous.domaine.example.fr",
        "jean.martin [at] gmail [dot] com",
        "jean.martin(at)gmail.com",
    ],
)
def test_emails_are_replaced(email: str) -> None:
    assert kinds(f"Écrivez-moi : {email}, merci.") == [("EMAIL", email)]


def test_an_email_is_one_value_whatever_its_case() -> None:
    anonymizer = ProjectAnonymizer()
    assert anonymizer.anonymize_text("jean@free.fr").text == anonymizer.anonymize_text("Jean@FREE.fr").text


# ---------------------------------------------------------------------------------------------------------- IBAN
@pytest.mark.parametrize(
    "iban",
    [
        "FR76 3000 6000 0112 3456 7890 189",
        "FR7630006000011234567890189",
        "fr76 3000 6000 0112 3456 7890 189",
        "FR55 1810 8856 4264 0544 8882 116",
        "BE93 1815 1923 0264",
        "DE89 3704 0044 0532 0130 00",
        "ES84 1777 8961 6567 0313 5618",
        "IT60 X054 2811 1010 0000 0123 456",
        "CH93 0076 2011 6238 5295 7",
        "PT98 9179 3088 9326 6836 0340 4",
        "GB82 WEST 1234 5698 7654 32",
    ],
)
def test_valid_ibans_are_replaced(iban: str) -> None:
    assert kinds(f"Virement possible sur {iban} avant travaux.") == [("IBAN", iban)]


def test_an_iban_followed_by_capitals_ends_where_its_checksum_does() -> None:
    assert kinds("Mon RIB FR76 3000 6000 0112 3456 7890 189 MERCI") == [("IBAN", "FR76 3000 6000 0112 3456 7890 189")]


@pytest.mark.parametrize(
    "text",
    [
        "Référence FR76 3000 6000 0112 3456 7890 188 du catalogue",  # one digit off: mod 97 fails, no keyword
        "Produit DE12 3456 7890 1234 5678 90 en stock",
        "Luminaire IP44 au-dessus du miroir, classe RE2020",
    ],
)
def test_iban_shaped_strings_failing_mod_97_are_kept(text: str) -> None:
    assert_kept(text)


def test_a_mistyped_iban_is_still_removed_when_announced_as_one() -> None:
    # Given an IBAN with a typo (mod 97 fails) right after "IBAN :"
    text = "Mon IBAN : FR76 3000 6000 0112 3456 7890 188 pour l'acompte"
    # Then it is still bank data: removed
    assert kinds(text) == [("IBAN", "FR76 3000 6000 0112 3456 7890 188")]


@pytest.mark.parametrize(
    ("iban", "valid"),
    [
        ("FR7630006000011234567890189", True),
        ("GB82WEST12345698765432", True),
        ("NO9386011117947", True),  # the shortest (15)
        ("LC55HEMM000100010012001200023015", True),  # the longest (32)
        ("FR7630006000011234567890188", False),  # last digit off
        ("FR763000600001123456789018", False),  # one digit short for France
        ("XX7630006000011234567890189", False),  # no such country
        ("FRAB30006000011234567890189", False),  # check digits must be digits
    ],
)
def test_iban_check(iban: str, valid: bool) -> None:
    assert iban_is_valid(iban) is valid


@pytest.mark.parametrize(
    ("number", "check", "valid"),
    [
        ("73282932000074", siret_is_valid, True),
        ("73282932000075", siret_is_valid, False),
        ("35600000000048", siret_is_valid, True),  # La Poste: digit sum multiple of 5, Luhn fails
        ("35600000000049", siret_is_valid, False),
        ("7328293200007", siret_is_valid, False),
        ("732829320", siren_is_valid, True),
        ("732829321", siren_is_valid, False),
        ("FR44732829320", french_vat_is_valid, True),
        ("FR45732829320", french_vat_is_valid, False),
        ("FR35882029382", french_vat_is_valid, True),
    ],
)
def test_company_number_checks(number: str, check: object, valid: bool) -> None:
    assert callable(check) and check(number) is valid


# ---------------------------------------------------------------------------------------------- SIRET, SIREN, TVA
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Entreprise 732 829 320 00074 inscrite", [("SIRET", "732 829 320 00074")]),
        ("numéro 73282932000074.", [("SIRET", "73282932000074")]),
        ("siret 732.829.320.00074", [("SIRET", "732.829.320.00074")]),
        ("La Poste 356 000 000 00048", [("SIRET", "356 000 000 00048")]),  # La Poste's own checksum rule
        ("SIRET : 732 829 320 00075", [("SIRET", "732 829 320 00075")]),  # Luhn fails, but announced
        ("société 502 466 337 au capital", [("SIREN", "502 466 337")]),
        ("RCS Lyon 502 466 338", [("SIREN", "502 466 338")]),  # Luhn fails, but announced
        ("TVA intracommunautaire FR35882029382", [("TVA", "FR35882029382")]),
        ("n° TVA FR 35 882 029 382", [("TVA", "FR 35 882 029 382")]),
    ],
)
def test_company_numbers(text: str, expected: list[tuple[str, str]]) -> None:
    assert kinds(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Commande 732 829 320 00075 du 12 mars",  # 14 digits, Luhn fails, no keyword
        "Article 123 456 789 en promotion",  # 9 digits, Luhn fails
        "Réf. 12345678901234",
    ],
)
def test_numbers_failing_luhn_without_a_keyword_are_kept(text: str) -> None:
    assert_kept(text)


# ------------------------------------------------------------------------------------------------------------ IPs
@pytest.mark.parametrize(
    "ip", ["192.168.1.254", "82.64.118.27", "10.0.0.42", "2a01:e0a:1f3:4c20::1", "fe80::1ff:fe23:4567:890a"]
)
def test_ip_addresses_are_replaced(ip: str) -> None:
    assert kinds(f"La box est en {ip} pour la config.") == [("IP", ip)]


@pytest.mark.parametrize("text", ["Version 999.1.1.1 du firmware", "RDV à 14:30:00 le 12.03.2024", "Spot IP65, IPX4"])
def test_things_that_look_like_ips_are_kept(text: str) -> None:
    assert_kept(text)


# ------------------------------------------------------------------------------------------------------ addresses
@pytest.mark.parametrize(
    "address",
    [
        "12 rue des Lilas",
        "12 bis rue des Lilas",
        "3 ter avenue Jean Jaurès",
        "15 quater boulevard Voltaire",
        "45, boulevard Voltaire",
        "8 rue victor hugo",
        "5 av. Foch",
        "12 bd Haussmann",
        "7 impasse des Acacias",
        "18 chemin de la Croix Blanche",
        "2 allée des Tilleuls",
        "1 place de la République",
        "6 place de l'Église",
        "14 quai de la Loire",
        "255 route de Grenoble",
        "60 cours Lafayette",
        "3 square de la Motte",
        "27 rue du Faubourg de Saverne",
        "4 rue du 8 Mai",
        "12B rue Pasteur",
    ],
)
def test_street_addresses_are_replaced(address: str) -> None:
    assert kinds(f"Le chantier est au {address}, au 2e étage.") == [("ADRESSE", address)]


@pytest.mark.parametrize(
    "text",
    [
        "Créer 1 allée de 15 m de long en pavés.",
        "Il y a 3 places de parking et 2 routes d'accès.",
        "Poser 1 place de parking en dalles, 1 chemin de jardin.",
        "Refaire 4 rues en enrobé.",  # plural: not a street of someone
    ],
)
def test_quantities_next_to_street_words_are_kept(text: str) -> None:
    assert_kept(text)


@pytest.mark.parametrize(
    "locality",
    ["75011 Paris", "69003 Lyon", "85000 La Roche-sur-Yon", "13210 Saint-Rémy-de-Provence", "06400 Cannes"],
)
def test_postcodes_with_their_city_are_replaced(locality: str) -> None:
    assert kinds(f"Maison située {locality}. Merci") == [("CODE_POSTAL", locality)]


@pytest.mark.parametrize("text", ["Budget 15000 € maximum", "Norme RE2020, 30000 BTU", "Prix 12500 Euros TTC"])
def test_amounts_are_not_postcodes(text: str) -> None:
    assert_kept(text)


def test_a_full_address_loses_street_and_locality() -> None:
    result = anonymize_text("Adresse : 12 bis rue des Lilas, 75011 Paris.")
    assert result.text == "Adresse : [ADRESSE_1], [CODE_POSTAL_1]."


# ---------------------------------------------------------------------------------------------------------- names
@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Merci de rappeler Mme Lefebvre demain.", "Lefebvre"),
        ("Demandez M. Le Goff au portail.", "Le Goff"),
        ("Mme de La Fontaine sera là.", "de La Fontaine"),
        ("Propriétaires : M. et Mme Lacroix.", "Lacroix"),
        ("Voir avec Monsieur Arnaud.", "Arnaud"),
        ("Le Dr Benhamou a validé.", "Benhamou"),
        ("Je m'appelle Wojciech Kowalski et j'ai besoin d'un devis.", "Wojciech Kowalski"),
        ("Bonjour, c'est Amandine pour la cuisine.", "Amandine"),
        ("Moi c'est Paul Bailly, propriétaire.", "Paul Bailly"),
        ("je suis kevin, merci de me rappeler", "kevin"),
        ("Cordialement,\nSophie Lefebvre", "Sophie Lefebvre"),
        ("Merci, Isabelle Garcia", "Isabelle Garcia"),
        ("Contact : Nicolas Garnier, disponible le matin.", "Nicolas Garnier"),
        ("Mon fils Thomas sera présent.", "Thomas"),
        ("Le devis est pour Claire Dubois.", "Claire Dubois"),
        ("Propriétaire : DUPONT Jean-Pierre.", "DUPONT Jean-Pierre"),
        ("Le propriétaire, Jean-Baptiste LEMAÎTRE, habite à l'étranger.", "Jean-Baptiste LEMAÎTRE"),
        ("Merci par avance. P. Royer", "P. Royer"),
        ("Mon email — Dumont Françoise", "Dumont Françoise"),
        ("Le locataire, Yanis Haddou, vous ouvrira.", "Yanis Haddou"),
        ("Sonner chez GIRAUD au portail.", "GIRAUD"),
        ("Voir avec M Dupont demain.", "Dupont"),
        ("C'est pour la famille Lopez.", "Lopez"),
        ("Appelez Amélie au portail.", "Amélie"),
    ],
)
def test_person_names_are_replaced(text: str, name: str) -> None:
    assert kinds(text) == [("PERSONNE", name)]


@pytest.mark.parametrize(
    "text",
    [
        "Meuble vasque Jacob Delafon 80 cm et mitigeur Grohe.",
        "Peinture Dulux Valentine Crème de Couleur teinte Rose Poudré.",
        "Meuble double vasque Marius Aurenti acheté chez Leroy Merlin.",
        "Carrelage Porcelanosa 60x60, colle Weber flex, placo BA13, douche italienne.",
        "Chaudière Saunier Duval ThemaPlus, pompe à chaleur Daikin Altherma 11 kW.",
        "Maison à Saint-Denis, près de la place Saint-Pierre.",
        "Mur en pierre de taille, joints à la chaux, 20 m² à 45 €/m².",
        "Cuisine Arthur Bonnet, plan Silestone, prises Legrand Céliane.",
        "Mr Bricolage et Point P livrent mardi.",
        "Durant les travaux, la cuisine reste utilisable.",
        "Meuble Louis XV à déplacer, style Napoléon III dans le salon.",
        "Merci. Pose prévue en mars, si possible avant Pâques.",
        "C'est Parfait pour nous. C'est Urgent. Achat chez Darty et chez Boulanger.",
        "Carrelage Marbre Carrara 30x60, joints Mapei Ultracolor Plus 113 Gris Ciment.",
        "Option : Volet roulant Bubendorff, moteur Somfy io, télécommande Situo.",
        "Tuiles Imerys Huguenot, Faîtières Arêtiers, Closoir Ventilé. Gouttière Nantaise.",
        "Porte d'entrée Bel'M, modèle Paris 2, couleur Gris Anthracite RAL 7016.",
        "Nous avons vu le chantier de Saint-Germain-en-Laye et celui de Marne-la-Vallée.",
    ],
)
def test_construction_vocabulary_and_brands_are_kept(text: str) -> None:
    assert_kept(text)


def test_a_maiden_name_is_removed_too() -> None:
    assert kinds("Mme Durand née Martin.") == [("PERSONNE", "Durand"), ("PERSONNE", "Martin")]


def test_titles_stay_so_the_text_still_reads() -> None:
    assert anonymize_text("Rappeler Mme Lefebvre.").text == "Rappeler Mme [PERSONNE_1]."


@pytest.mark.parametrize(
    "text",
    [
        "Entreprise SARL Bati-Confort, gérant absent.",
        "Le propriétaire est la SCI du Moulin.",
        "Exploitation EARL des Trois Chênes.",
        "Plans du Cabinet Archi & Co.",
    ],
)
def test_companies_with_a_legal_form_are_replaced(text: str) -> None:
    assert [k for k, _ in kinds(text)] == ["ENTREPRISE"]


# ----------------------------------------------------------------------------------------------- known identities
KNOWN = KnownIdentities(
    names=["Jean Martin", "Hélène Petit"],
    companies=["Durant Peinture"],
    emails=["jean.martin@gmail.com"],
    phones=["06 12 34 56 78"],
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("JEAN MARTIN a signé.", "[PERSONNE_1] a signé."),
        ("jean martin a signé.", "[PERSONNE_1] a signé."),
        ("Helene PETIT et Hélène Petit.", "[PERSONNE_2] et [PERSONNE_2]."),
        ("Voir Martin demain.", "Voir [PERSONNE_1] demain."),
        ("Petit a appelé.", "[PERSONNE_2] a appelé."),
        ("Un petit meuble.", "Un petit meuble."),  # also an everyday word: only with a capital
        ("Le devis de DURANT PEINTURE.", "Le devis de [ENTREPRISE_1]."),
        ("Durant a fini.", "[ENTREPRISE_1] a fini."),
        ("durant les travaux", "durant les travaux"),
        ("Écrire à jean.martin@gmail.com", "Écrire à [EMAIL_1]"),
        ("Tél 0612345678", "Tél [TELEPHONE_1]"),
    ],
)
def test_known_identities_match_whatever_their_case_and_accents(text: str, expected: str) -> None:
    assert ProjectAnonymizer(KNOWN).anonymize_text(text).text == expected


def test_known_identities_are_numbered_first_in_their_given_order() -> None:
    anonymizer = ProjectAnonymizer(KNOWN)
    assert anonymizer.anonymize_text("Sophie Lefebvre et Hélène Petit").text == "[PERSONNE_3] et [PERSONNE_2]"


# ------------------------------------------------------------------------------------------ stable placeholders
def test_the_same_person_keeps_one_placeholder_across_texts_and_forms() -> None:
    # Given one project's anonymizer
    anonymizer = ProjectAnonymizer()
    # When the same person appears as a title + surname, then in full, then by surname alone
    texts = ["Rappeler Mme Lefebvre.", "Cordialement, Sophie Lefebvre", "Lefebvre a confirmé."]
    results = [anonymizer.anonymize_text(t).text for t in texts]
    # Then one placeholder stands for her; another person gets another one
    assert results == ["Rappeler Mme [PERSONNE_1].", "Cordialement, [PERSONNE_1]", "[PERSONNE_1] a confirmé."]
    assert anonymizer.anonymize_text("Je m'appelle Karim Benali").text == "Je m'appelle [PERSONNE_2]"


def test_a_surname_met_later_in_the_same_text_is_removed_earlier_too() -> None:
    assert (
        anonymize_text("Martin rappellera. Signé : Jean Martin").text == "[PERSONNE_1] rappellera. Signé : [PERSONNE_1]"
    )


def test_one_shot_calls_do_not_share_a_map() -> None:
    assert anonymize_text("Mme Roux").text == anonymize_text("Mme Lebrun").text == "Mme [PERSONNE_1]"


def test_anonymizing_twice_changes_nothing_more() -> None:
    anonymizer = ProjectAnonymizer(KNOWN)
    once = anonymizer.anonymize_text("M. Jean Martin, 12 rue des Lilas 75011 Paris, 06 12 34 56 78").text
    assert anonymizer.anonymize_text(once).text == once


def test_replacements_give_the_original_and_where_it_was() -> None:
    text = "Appeler Mme Roux au 06 12 34 56 78."
    result = anonymize_text(text)
    assert [(r.kind, r.placeholder, r.original) for r in result.replacements] == [
        ("PERSONNE", "[PERSONNE_1]", "Roux"),
        ("TELEPHONE", "[TELEPHONE_1]", "06 12 34 56 78"),
    ]
    assert all(text[r.start : r.end] == r.original for r in result.replacements)


# ------------------------------------------------------------------------------------------------ structured data
PRE_QUOTE = {
    "session": {"id": "sess_1", "client_ip": "82.64.118.27"},
    "client": {"name": "Jean Martin", "email": "jean.martin@gmail.com", "phone": "0612345678"},
    "description": "Salle de bain de 6 m² pour M. Martin, 12 bis rue des Lilas 75011 Paris.",
    "items": [
        {"label": "Carrelage Porcelanosa 60x60", "quantity": 10, "unit": "m²", "unit_price": 45.5},
        {"label": "Colle Weber flex", "quantity": 3, "unit": "sac", "unit_price": 18},
    ],
    "total_ht": 1250.0,
    "validated": False,
    "notes": None,
    "tags": ("urgent", "Rappeler au 06 12 34 56 78"),
}


def test_structured_data_keeps_keys_numbers_and_vocabulary() -> None:
    # Given a pre-quote with identities in fields and in free text
    original = copy.deepcopy(PRE_QUOTE)
    # When it is anonymized
    result = anonymize_data(PRE_QUOTE)
    data = result.data
    # Then keys, numbers, booleans, None and the trade vocabulary are untouched, and the input is not modified
    assert PRE_QUOTE == original
    assert data.keys() == PRE_QUOTE.keys()
    assert data["items"] == PRE_QUOTE["items"]
    assert (data["total_ht"], data["validated"], data["notes"]) == (1250.0, False, None)
    # And every identity is gone, with one placeholder per value across fields and text
    assert data["session"] == {"id": "sess_1", "client_ip": "[IP_1]"}
    assert data["client"] == {"name": "[PERSONNE_1]", "email": "[EMAIL_1]", "phone": "[TELEPHONE_1]"}
    assert data["description"] == "Salle de bain de 6 m² pour M. [PERSONNE_1], [ADRESSE_1] [CODE_POSTAL_1]."
    assert data["tags"] == ("urgent", "Rappeler au [TELEPHONE_1]")
    paths = {r.path for r in result.replacements}
    assert ("client", "name") in paths and ("tags", 1) in paths


def test_a_list_of_messages_shares_one_map_and_reads_everything_first() -> None:
    # Given messages where the surname appears alone before the full name is given
    messages = [
        {"role": "user", "content": "Bonjour, ici la famille Kowalczyk pour une cuisine."},
        {"role": "assistant", "content": "Bonjour ! Quelle surface ?"},
        {"role": "user", "content": "12 m². Je m'appelle Anna Kowalczyk, 07 53 12 84 69."},
    ]
    # When the list is anonymized in one call
    out = anonymize_data(messages).data
    # Then the earlier mention is removed too, with the same placeholder
    assert out[0]["content"] == "Bonjour, ici la famille [PERSONNE_1] pour une cuisine."
    assert out[2]["content"] == "12 m². Je m'appelle [PERSONNE_1], [TELEPHONE_1]."
    assert out[1] == messages[1]


def test_identity_keys_can_be_chosen_by_the_caller() -> None:
    data = {"agent": {"name": "Expert BTP"}, "client_name": "Jean Martin"}
    anonymizer = ProjectAnonymizer(identity_keys={"client_name": "PERSONNE"})
    assert anonymizer.anonymize_data(data).data == {"agent": {"name": "Expert BTP"}, "client_name": "[PERSONNE_1]"}


@pytest.mark.parametrize(
    ("key", "kind"),
    [
        ("client_ip", "IP"),
        ("customerEmail", "EMAIL"),
        ("phones", "TELEPHONE"),
        ("postal_code", "CODE_POSTAL"),
        ("Nom", "PERSONNE"),
        ("raison_sociale", "ENTREPRISE"),
        ("iban", "IBAN"),
        ("quantity", None),
        ("zip_code", "CODE_POSTAL"),
        ("label", None),
    ],
)
def test_identity_keys(key: str, kind: str | None) -> None:
    assert identity_kind(key) == kind


# --------------------------------------------------------------------------------------------- robustness
@pytest.mark.parametrize(
    "text",
    ["Jean-" * 4000, "1 " * 10000, "a@" * 5000, "1." * 10000, "a:" * 10000, "FR76 " * 4000, "12 rue " * 3000],
)
def test_adversarial_input_is_handled_in_linear_time(text: str) -> None:
    # Given a long pathological string (a catastrophic regex would hang here)
    result = anonymize_text(text)
    # Then it completes, and what it reports is where it says
    assert all(text[r.start : r.end] == r.original for r in result.replacements)


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("abcdeJMé0123456789 .-@+:'\n")), max_size=300))
def test_any_text_gives_consistent_replacements(text: str) -> None:
    result = anonymize_text(text)
    rebuilt, cursor = [], 0
    for r in result.replacements:
        assert text[r.start : r.end] == r.original and r.start >= cursor
        rebuilt += [text[cursor : r.start], r.placeholder]
        cursor = r.end
    assert "".join(rebuilt) + text[cursor:] == result.text
